"""Admins look after quarantined payloads and the classifier: view, retry, discard; metrics and
retraining on agents' corrections."""

from __future__ import annotations

import base64
import shutil

import pytest

from tests.api.seed import make_quarantined, make_request

API = "/api/v1"


@pytest.fixture
def settings(settings, tmp_path, triage_model_dir):
    """This module retrains: each test gets its own copy of the trained classifier."""
    copy = tmp_path / "triage"
    shutil.copytree(triage_model_dir, copy)
    return settings.model_copy(update={"model_dir": copy})


def test_quarantined_payloads_are_listed_and_shown_as_text_or_base64(client, people, settings):
    readable = make_quarantined(settings, content="Subject: 你好\r\n\r\nno sender".encode())
    binary = make_quarantined(settings, content=b"\xff\xfe\x00garbage")
    admin = people["admin"].auth

    listed = client.get(f"{API}/quarantine", headers=admin).json()
    text = client.get(f"{API}/quarantine/{readable}", headers=admin).json()
    raw = client.get(f"{API}/quarantine/{binary}", headers=admin).json()

    assert [i["id"] for i in listed["items"]] == [binary, readable]
    assert listed["items"][0]["connector"] == "tp-sms"
    assert (text["payload_encoding"], text["payload"]) == ("text", "Subject: 你好\r\n\r\nno sender")
    assert raw["payload_encoding"] == "base64"
    assert base64.b64decode(raw["payload"]) == b"\xff\xfe\x00garbage"
    assert text["reason"] == "no sender"


def test_a_payload_is_discarded_once_and_leaves_the_held_list(client, people, settings):
    held = make_quarantined(settings)
    admin = people["admin"].auth

    first = client.post(f"{API}/quarantine/{held}/discard", headers=admin)
    second = client.post(f"{API}/quarantine/{held}/discard", headers=admin)

    assert first.status_code == 204
    assert second.status_code == 409
    assert second.json()["errors"] == {"base": "already_discarded"}
    assert client.get(f"{API}/quarantine", headers=admin).json()["total"] == 0
    discarded = client.get(f"{API}/quarantine?status=discarded", headers=admin).json()
    assert [i["id"] for i in discarded["items"]] == [held]


def test_a_connector_that_cannot_read_a_payload_again_says_so(client, people, settings):
    held = make_quarantined(settings)

    response = client.post(f"{API}/quarantine/{held}/retry", headers=people["admin"].auth)

    assert response.status_code == 409
    assert response.json()["errors"] == {"base": "not_retryable"}
    shown = client.get(f"{API}/quarantine/{held}", headers=people["admin"].auth).json()
    assert shown["status"] == "held"


def test_the_classifier_shows_its_versions_and_untrained_corrections(client, people, settings):
    seeded = make_request(settings, text="积分怎么兑换优惠券？", category="other")
    client.put(
        f"{API}/requests/{seeded.request_id}/category",
        json={"category": "account"},
        headers=people["agent"].auth,
    )

    shown = client.get(f"{API}/classifier", headers=people["supervisor"].auth).json()

    assert shown["active"] == "v0001"
    assert [v["version"] for v in shown["versions"]] == ["v0001"]
    assert shown["versions"][0]["active"] is True
    assert "macro_f1" in shown["versions"][0]["metrics"]["heldout"]
    assert shown["untrained_corrections"] == 1


def test_retraining_uses_the_corrections_and_reports_the_outcome(client, people, settings):
    seeded = make_request(settings, text="积分怎么兑换优惠券？", category="other")
    client.put(
        f"{API}/requests/{seeded.request_id}/category",
        json={"category": "account"},
        headers=people["agent"].auth,
    )

    result = client.post(
        f"{API}/classifier/retrain", json={"force": True}, headers=people["admin"].auth
    )

    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["version"], body["activated"], body["previous"]) == ("v0002", True, "v0001")
    assert body["corrections_used"] == 1
    assert 0 < body["macro_f1"] <= 1
    after = client.get(f"{API}/classifier", headers=people["admin"].auth).json()
    assert (after["active"], after["untrained_corrections"]) == ("v0002", 0)
