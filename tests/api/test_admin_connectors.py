"""Connectors made in the admin console: validated, tested against the (fake) provider, stored
encrypted, refused twice for one account, redacted everywhere, and live without a restart."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import ConnectorRecord, Message, Request
from omnidesk.models.auth import AuditLog
from tests.api.seed import make_people
from tests.factories import TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN, post_sms, wait_until
from tests.live import free_port

URL = "/api/v1/admin/connectors"
WRONG = "a-wrong-secret-4242"


def twilio(base_url: str, **changes: object) -> dict[str, object]:
    return {
        "name": "console-sms",
        "channel": "twilio",
        "account_sid": TWILIO_SID,
        "auth_token": TWILIO_TOKEN,
        "from_number": TWILIO_NUMBER,
        "api_base_url": base_url,
    } | changes


@pytest.fixture
def admin(client, settings):
    return make_people(settings)["admin"].auth


def test_a_twilio_connector_is_tested_stored_encrypted_and_shown_redacted(
    client, admin, fake_twilio, settings
):
    response = client.post(URL, json=twilio(fake_twilio.base_url), headers=admin)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["source"], body["state"], body["live"]) == (
        "console-sms",
        "console",
        "ready",
        True,
    )
    assert body["config"]["auth_token"] == "**********"
    assert body["webhook_url"] == f"{settings.public_url}/webhooks/console-sms"
    assert f"{settings.public_url}/webhooks/console-sms/sms" in body["webhook_urls"]
    with unit_of_work(settings) as session:
        stored = session.exec(select(ConnectorRecord)).one()
    assert set(stored.config["auth_token"]) == {"$enc"}
    assert TWILIO_TOKEN not in json.dumps(stored.config)


def test_a_refused_token_is_an_error_on_the_auth_token_field(client, admin, fake_twilio, settings):
    response = client.post(
        URL, json=twilio(fake_twilio.base_url, auth_token="wrong-token"), headers=admin
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"auth_token": "invalid_auth"}
    with unit_of_work(settings) as session:
        assert session.exec(select(ConnectorRecord)).all() == []


def test_an_unreachable_provider_is_a_base_error(client, admin):
    unreachable = f"http://127.0.0.1:{free_port()}"

    response = client.post(URL, json=twilio(unreachable), headers=admin)

    assert response.status_code == 400
    assert response.json()["errors"] == {"base": "cannot_connect"}


def test_invalid_settings_are_errors_keyed_by_field(client, admin, fake_twilio):
    response = client.post(
        URL, json=twilio(fake_twilio.base_url, account_sid="nope", from_number=None), headers=admin
    )
    unknown = client.post(URL, json={"name": "x", "channel": "pigeon"}, headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"] == {"account_sid": "string_pattern_mismatch"}
    assert unknown.json()["errors"] == {"channel": "unknown_channel"}


def test_a_second_connector_on_the_same_account_is_already_configured(client, admin, fake_twilio):
    assert client.post(URL, json=twilio(fake_twilio.base_url), headers=admin).status_code == 201

    twin = client.post(URL, json=twilio(fake_twilio.base_url, name="twin"), headers=admin)
    same_name = client.post(
        URL, json=twilio(fake_twilio.base_url, from_number="+15005550007"), headers=admin
    )

    assert twin.status_code == 409
    assert twin.json()["errors"] == {"base": "already_configured"}
    assert same_name.json()["errors"] == {"name": "name_taken"}


def test_the_config_files_connectors_count_as_configured_and_are_read_only(
    twilio_desk, client, admin, fake_twilio
):
    twin = client.post(URL, json=twilio(fake_twilio.base_url), headers=admin)
    edit = client.put(f"{URL}/tp-sms", json={"status_callbacks": False}, headers=admin)
    disable = client.post(f"{URL}/tp-sms/disable", headers=admin)

    assert twin.json()["errors"] == {"base": "already_configured"}
    assert edit.status_code == disable.status_code == 409
    assert edit.json()["errors"] == {"base": "read_only"}
    listed = client.get(URL, headers=admin).json()
    assert [(c["name"], c["source"], c["config"]["auth_token"]) for c in listed] == [
        ("tp-sms", "file", "**********")
    ]


def test_editing_keeps_a_secret_left_out_and_tests_a_new_one(client, admin, fake_twilio, settings):
    client.post(URL, json=twilio(fake_twilio.base_url), headers=admin)

    kept = client.put(f"{URL}/console-sms", json={"voice_language": "zh"}, headers=admin)
    refused = client.put(f"{URL}/console-sms", json={"auth_token": "wrong"}, headers=admin)
    renamed = client.put(f"{URL}/console-sms", json={"name": "other"}, headers=admin)

    assert kept.status_code == 200, kept.text
    assert kept.json()["config"]["voice_language"] == "zh"
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"auth_token": "invalid_auth"}
    assert renamed.json()["errors"] == {"name": "immutable"}
    check = client.post(f"{URL}/console-sms/check", headers=admin)
    assert check.json() == {"ok": True, "state": "ready", "errors": {}}


def test_a_failing_check_records_the_state_the_admin_must_act_on(client, admin, fake_twilio):
    client.post(URL, json=twilio(fake_twilio.base_url), headers=admin)
    fake_twilio.accounts[TWILIO_SID] = "rotated-by-someone-else"

    check = client.post(f"{URL}/console-sms/check", headers=admin)

    assert check.status_code == 400
    assert check.json() == {
        "ok": False,
        "state": "needs_reauth",
        "errors": {"auth_token": "invalid_auth"},
    }
    shown = client.get(f"{URL}/console-sms", headers=admin).json()
    assert shown["state"] == "needs_reauth"
    diagnostics = client.get(f"{URL}/console-sms/diagnostics", headers=admin).json()
    assert diagnostics["last_errors"][0]["code"] == "needs_reauth"


def test_the_schema_marks_secret_fields_write_only(client, admin):
    schema = client.get(f"{URL}/schema/twilio", headers=admin).json()
    every = client.get(f"{URL}/schema", headers=admin).json()

    assert schema["properties"]["auth_token"]["writeOnly"] is True
    assert schema["secret_fields"] == ["auth_token"]
    assert "account_sid" in schema["required"]
    assert {"twilio", "wechat", "weibo"} <= set(every["channels"])
    assert client.get(f"{URL}/schema/pigeon", headers=admin).status_code == 404


def test_a_console_connector_takes_signed_webhooks_and_answers_through_the_workers(
    client, admin, fake_twilio, worker, settings
):
    # Given a connector made in the console (no restart)
    assert client.post(URL, json=twilio(fake_twilio.base_url), headers=admin).status_code == 201

    # When the provider posts a signed SMS to its webhook URL
    response = post_sms(client, "我的订单什么时候发货？", connector="console-sms")

    # Then it is stored and processed, and the acknowledgement goes out through it
    assert response.status_code == 200
    sent = wait_until(lambda: fake_twilio.messages)
    assert sent[0]["from"] == TWILIO_NUMBER
    with unit_of_work(settings) as session:
        request = session.exec(select(Request)).one()
        record = session.exec(select(ConnectorRecord)).one()
        assert request.connector_id == record.id
        assert session.exec(select(Message)).all()


def test_a_disabled_console_connector_stops_taking_webhooks_until_enabled(
    client, admin, fake_twilio
):
    client.post(URL, json=twilio(fake_twilio.base_url), headers=admin)

    disabled = client.post(f"{URL}/console-sms/disable", headers=admin)
    refused = post_sms(client, "hello?", connector="console-sms")
    enabled = client.post(f"{URL}/console-sms/enable", headers=admin)
    accepted = post_sms(client, "hello again", connector="console-sms")

    assert (disabled.json()["state"], disabled.json()["enabled"]) == ("disabled", False)
    assert refused.status_code == 404
    assert enabled.json()["state"] == "ready"
    assert accepted.status_code == 200


def test_the_secret_never_appears_in_any_answer_audit_line_or_log(
    client, admin, fake_twilio, settings, capfd, caplog
):
    answers = [
        client.post(URL, json=twilio(fake_twilio.base_url), headers=admin),
        client.post(
            URL,
            json=twilio(
                fake_twilio.base_url, name="x", from_number="+15005550009", auth_token=WRONG
            ),
            headers=admin,
        ),
        client.get(URL, headers=admin),
        client.get(f"{URL}/console-sms", headers=admin),
        client.get(f"{URL}/console-sms/diagnostics", headers=admin),
        client.put(f"{URL}/console-sms", json={"auth_token": TWILIO_TOKEN}, headers=admin),
        client.post(f"{URL}/console-sms/check", headers=admin),
        client.get("/api/v1/audit", headers=admin),
    ]

    diagnostics = answers[4].json()
    assert diagnostics["config"]["auth_token"] == "**********"
    assert diagnostics["counters"] == {
        "inbound": 0,
        "outbound": 0,
        "outbound_failed": 0,
        "outbound_pending": 0,
        "quarantined": 0,
    }
    for answer in answers:
        assert TWILIO_TOKEN not in answer.text
        assert WRONG not in answer.text
    with unit_of_work(settings) as session:
        audit = [json.dumps(a.details) for a in session.exec(select(AuditLog))]
    assert audit
    assert all(TWILIO_TOKEN not in line for line in audit)
    out, err = capfd.readouterr()
    assert TWILIO_TOKEN not in out + err + caplog.text
    assert WRONG not in out + err + caplog.text
