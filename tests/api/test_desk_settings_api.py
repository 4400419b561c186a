"""The desk's settings: everyone reads them, admins change them over the config file's, every
change is audited, and the next request follows the change without a restart."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from omnidesk.db import unit_of_work
from omnidesk.models import AuditLog, Direction, Message, Request
from omnidesk.services.hours_config import HoursConfig, SlaPolicyConfig, due_times
from tests.factories import TWILIO_TOKEN, post_sms, twilio_toml, wait_until

pytestmark = pytest.mark.clock

API = "/api/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
FILE_SETTINGS = """
[[hours]]
name = "default"
time_zone = "Asia/Shanghai"
opens = "09:00"
closes = "18:00"

[[hours]]
name = "night"
time_zone = "Asia/Shanghai"
opens = "18:00"
closes = "23:00"

[[sla]]
name = "normal"
priority = "normal"
first_response = "4h"
resolution = "3d"

[[sla]]
name = "urgent"
priority = "urgent"
first_response = "30m"
resolution = "4h"
"""


@pytest.fixture
def admin(people):
    return people["admin"].auth


@pytest.fixture
def file_desk(configure, fake_twilio):
    """The Twilio SMS connector tp-sms and the file's hours and SLA policies above."""
    os.environ["TWILIO_AUTH_TOKEN"] = TWILIO_TOKEN
    return configure(twilio_toml(fake_twilio.base_url) + FILE_SETTINGS)


def _by(rows, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def _audit(settings, action):
    with unit_of_work(settings) as session:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(col(AuditLog.id))
        return list(session.exec(stmt))


# -- reading ----------------------------------------------------------------------------------


def test_business_hours_and_sla_policies_come_from_the_config(client, people):
    auth = people["agent"].auth

    hours = client.get(f"{API}/settings/hours", headers=auth).json()
    sla = client.get(f"{API}/settings/sla", headers=auth).json()

    assert hours[0]["name"] == "default"
    assert (hours[0]["opens"], hours[0]["closes"]) == ("09:00", "18:00")
    assert hours[0]["workdays"] == [0, 1, 2, 3, 4]
    assert (hours[0]["source"], hours[0]["overrides_file"]) == ("default", False)
    assert {p["priority"] for p in sla} == {"urgent", "high", "normal", "low"}
    assert {p["source"] for p in sla} == {"default"}


def test_each_setting_says_whether_it_comes_from_the_file(file_desk, client, people):
    auth = people["agent"].auth

    hours = _by(client.get(f"{API}/settings/hours", headers=auth).json(), "name")
    sla = _by(client.get(f"{API}/settings/sla", headers=auth).json(), "name")
    kb = client.get(f"{API}/settings/knowledge", headers=auth).json()

    assert hours["night"]["source"] == "file"
    assert hours["night"]["table"]["opens"] == "18:00"
    assert hours["night"]["table"]["calendar"] == "cn"
    assert set(sla) == {"normal", "urgent"}
    assert {(p["source"], p["overrides_file"]) for p in sla.values()} == {("file", False)}
    assert {e["source"] for e in kb["entries"]} == {"file"}


def test_templates_show_the_built_in_text_in_both_languages(client, people):
    rows = client.get(f"{API}/settings/templates", headers=people["agent"].auth).json()

    found = {(t["language"], t["name"]): t for t in rows}
    assert found[("zh", "acknowledgement")]["source"] == "default"
    assert "$request_id" in found[("en", "acknowledgement")]["text"]
    assert found[("en", "when_closed")]["placeholders"] == ["next_opening"]
    assert found[("en", "when_closed")]["editable"] is True


def test_the_knowledge_base_answers_even_when_it_has_no_entries(client, people):
    body = client.get(f"{API}/settings/knowledge", headers=people["agent"].auth).json()

    assert set(body) == {"enabled", "directory", "thresholds", "entries", "error"}
    assert isinstance(body["entries"], list)


# -- who may change them ----------------------------------------------------------------------

WRITES = [
    ("PUT", "/settings/hours/late", {"opens": "12:00", "closes": "20:00"}),
    ("DELETE", "/settings/hours/night", None),
    ("PUT", "/settings/sla/vip", {"first_response": "10m", "resolution": "1h"}),
    ("DELETE", "/settings/sla/normal", None),
    ("PUT", "/settings/templates/en/when_open", {"text": "Soon."}),
    ("DELETE", "/settings/templates/en/when_open", None),
    (
        "POST",
        "/settings/knowledge",
        {"id": "x", "language": "en", "title": "x", "questions": ["a", "b"], "answer": "x"},
    ),
    ("PUT", "/settings/knowledge/invoice", {"language": "en", "title": "x"}),
    ("DELETE", "/settings/knowledge/invoice?language=en", None),
]


@pytest.mark.parametrize("role", ["supervisor", "agent"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_only_admins_change_the_desks_settings(
    file_desk, client, people, settings, role, method, path, body
):
    response = client.request(method, API + path, json=body, headers=people[role].auth)

    assert response.status_code == 403
    with unit_of_work(settings) as session:
        assert session.exec(select(AuditLog)).first() is None


# -- hours ------------------------------------------------------------------------------------


def test_an_admin_adds_a_holiday_over_the_files_hours_and_resets_it(
    file_desk, client, admin, people, settings
):
    table = client.get(f"{API}/settings/hours", headers=admin).json()[0]["table"]
    table["holidays"] = ["2027-03-15"]
    table["extra_workdays"] = ["2027-03-20"]

    saved = client.put(f"{API}/settings/hours/default", json=table, headers=admin)
    seen = _by(client.get(f"{API}/settings/hours", headers=people["agent"].auth).json(), "name")

    assert saved.status_code == 200, saved.text
    assert (saved.json()["source"], saved.json()["overrides_file"]) == ("console", True)
    assert saved.json()["updated_by"] == "admin"
    assert "2027-03-15" in seen["default"]["holidays"]
    assert "2027-03-20" in seen["default"]["extra_workdays"]
    assert seen["default"]["table"]["holidays"] == ["2027-03-15"]
    [entry] = _audit(settings, "hours_saved")
    assert (entry.actor, entry.target_type, entry.target_id) == ("admin", "hours", "default")
    assert entry.details["after"]["holidays"] == ["2027-03-15"]

    reset = client.delete(f"{API}/settings/hours/default", headers=admin)
    again = _by(client.get(f"{API}/settings/hours", headers=admin).json(), "name")

    assert reset.status_code == 204
    assert again["default"]["source"] == "file"
    assert "2027-03-15" not in again["default"]["holidays"]
    assert len(_audit(settings, "hours_reset")) == 1


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"opens": "25:00"}, "opens", "invalid time"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
        ({"workdays": ["mon", "funday"]}, "workdays", "unknown weekday"),
        ({"holidays": ["2027-02-30"]}, "holidays", "holidays.0"),
        ({"opens": "18:00", "closes": "09:00"}, "base", "must be after opens"),
        ({"calendar": "moon"}, "calendar", "unknown calendar"),
        ({"lunch": "12:00"}, "lunch", "Extra inputs"),
    ],
)
def test_hours_are_checked_like_the_files(file_desk, client, admin, settings, change, field, words):
    body = {"time_zone": "Asia/Shanghai", "opens": "09:00", "closes": "18:00"} | change

    response = client.put(f"{API}/settings/hours/default", json=body, headers=admin)

    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert words in response.json()["messages"][field]
    assert _audit(settings, "hours_saved") == []


def test_hours_a_team_uses_cannot_be_deleted_and_the_files_hours_only_reset(
    file_desk, client, admin
):
    made = client.put(
        f"{API}/settings/hours/weekend", json={"workdays": ["sat", "sun"]}, headers=admin
    )
    assert made.status_code == 200, made.text
    assert (made.json()["source"], made.json()["overrides_file"]) == ("console", False)
    team = client.post(
        f"{API}/teams", json={"name": "weekenders", "hours": "weekend"}, headers=admin
    )
    assert team.status_code == 201, team.text

    in_use = client.delete(f"{API}/settings/hours/weekend", headers=admin)
    file_only = client.delete(f"{API}/settings/hours/night", headers=admin)
    built_in = client.delete(f"{API}/settings/hours/default", headers=admin)
    missing = client.delete(f"{API}/settings/hours/nowhere", headers=admin)
    bad_name = client.put(f"{API}/settings/hours/Night Shift", json={}, headers=admin)

    assert (in_use.status_code, in_use.json()["errors"]) == (409, {"base": "in_use"})
    assert "weekenders" in in_use.json()["detail"]
    assert (file_only.status_code, file_only.json()["errors"]) == (409, {"base": "read_only"})
    assert built_in.status_code == 409
    assert missing.status_code == 404
    assert (bad_name.status_code, list(bad_name.json()["errors"])) == (422, ["name"])

    assert client.patch(f"{API}/teams/weekenders", json={"hours": "night"}, headers=admin)
    assert client.delete(f"{API}/settings/hours/weekend", headers=admin).status_code == 204
    names = {h["name"] for h in client.get(f"{API}/settings/hours", headers=admin).json()}
    assert names == {"default", "night"}


# -- SLA policies -----------------------------------------------------------------------------


def test_an_admin_overrides_an_sla_policy_adds_one_and_resets(file_desk, client, admin, settings):
    changed = client.put(
        f"{API}/settings/sla/normal",
        json={"priority": "normal", "first_response": "2h", "resolution": "2d"},
        headers=admin,
    )
    added = client.put(
        f"{API}/settings/sla/refunds",
        json={"category": "payment", "first_response": "1h", "resolution": "1d", "hours": "night"},
        headers=admin,
    )
    policies = _by(client.get(f"{API}/settings/sla", headers=admin).json(), "name")

    assert changed.status_code == 200, changed.text
    assert (changed.json()["source"], changed.json()["overrides_file"]) == ("console", True)
    assert policies["normal"]["first_response"] == "2h"
    assert (added.json()["source"], added.json()["overrides_file"]) == ("console", False)
    assert policies["refunds"]["hours"] == "night"
    assert [e.target_id for e in _audit(settings, "sla_saved")] == ["normal", "refunds"]
    normal, refunds = _audit(settings, "sla_saved")
    assert normal.details["changes"] == {
        "first_response": ["4h", "2h"],
        "resolution": ["3d", "2d"],
    }
    assert refunds.details["before"] is None

    assert client.delete(f"{API}/settings/sla/normal", headers=admin).status_code == 204
    assert client.delete(f"{API}/settings/sla/refunds", headers=admin).status_code == 204
    policies = _by(client.get(f"{API}/settings/sla", headers=admin).json(), "name")
    assert policies["normal"]["first_response"] == "4h"
    assert "refunds" not in policies
    assert [e.action for e in _audit(settings, "sla_reset")] == ["sla_reset"]
    assert [e.target_id for e in _audit(settings, "sla_deleted")] == ["refunds"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"first_response": "soon", "resolution": "1d"}, "first_response", "value_error"),
        ({"first_response": "2h", "resolution": "1h"}, "base", "value_error"),
        ({"first_response": "1h", "resolution": "1d", "clock": "lunar"}, "clock", "literal_error"),
        ({"first_response": "1h", "resolution": "1d", "hours": "nope"}, "hours", "unknown_hours"),
        (
            {"first_response": "1h", "resolution": "1d", "category": "nope"},
            "category",
            "unknown_category",
        ),
        ({"resolution": "1d"}, "first_response", "missing"),
    ],
)
def test_sla_policies_are_checked_like_the_files(file_desk, client, admin, body, field, code):
    response = client.put(f"{API}/settings/sla/vip", json=body, headers=admin)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][field] == code
    assert response.json()["messages"][field]


def test_a_policy_a_routing_rule_sets_cannot_be_deleted(file_desk, client, admin):
    body = {"first_response": "10m", "resolution": "2h"}
    assert client.put(f"{API}/settings/sla/vip", json=body, headers=admin).status_code == 200
    rule = {"name": "vips", "keywords": ["vip"], "sla": "vip"}
    assert client.post(f"{API}/routing-rules", json=rule, headers=admin).status_code == 201

    refused = client.delete(f"{API}/settings/sla/vip", headers=admin)
    file_policy = client.delete(f"{API}/settings/sla/urgent", headers=admin)

    assert (refused.status_code, refused.json()["errors"]) == (409, {"base": "in_use"})
    assert (file_policy.status_code, file_policy.json()["errors"]) == (409, {"base": "read_only"})


# -- templates --------------------------------------------------------------------------------


def test_an_admin_changes_a_template_and_resets_it(client, admin, settings):
    text = "Thanks! We will answer request #$request_id. $when"

    saved = client.put(
        f"{API}/settings/templates/en/acknowledgement_short", json={"text": text}, headers=admin
    )
    rows = _by(client.get(f"{API}/settings/templates", headers=admin).json(), "language", "name")

    assert saved.status_code == 200, saved.text
    assert rows[("en", "acknowledgement_short")]["text"] == text
    assert rows[("en", "acknowledgement_short")]["source"] == "console"
    assert rows[("zh", "acknowledgement_short")]["source"] == "default"
    assert _audit(settings, "template_saved")[0].target_id == "en/acknowledgement_short"

    reset = client.delete(f"{API}/settings/templates/en/acknowledgement_short", headers=admin)
    rows = _by(client.get(f"{API}/settings/templates", headers=admin).json(), "language", "name")

    assert reset.status_code == 204
    assert rows[("en", "acknowledgement_short")]["source"] == "default"
    assert "$desk_name" in rows[("en", "acknowledgement_short")]["text"]
    assert len(_audit(settings, "template_reset")) == 1


@pytest.mark.parametrize(
    ("path", "text", "status", "errors", "words"),
    [
        (
            "en/when_closed",
            "Back at $opening_time.",
            422,
            {"text": "unknown_placeholder"},
            "$next_opening",
        ),
        ("en/when_open", "Soon, $name.", 422, {"text": "unknown_placeholder"}, "none"),
        ("zh/acknowledgement", "收到 $ 元", 422, {"text": "invalid_placeholder"}, "$$"),
        ("zh/acknowledgement", "  ", 422, {"text": "empty"}, "empty"),
        ("fr/acknowledgement", "Merci", 422, {"language": "unknown_language"}, "zh or en"),
        ("en/farewell", "Bye", 404, {}, ""),
    ],
)
def test_a_template_may_use_only_the_values_it_is_filled_with(
    client, admin, settings, path, text, status, errors, words
):
    response = client.put(f"{API}/settings/templates/{path}", json={"text": text}, headers=admin)

    assert response.status_code == status, response.text
    assert response.json()["errors"] == errors
    assert words in response.json()["detail"]
    assert _audit(settings, "template_saved") == []


# -- the knowledge base -----------------------------------------------------------------------

ENTRY = {
    "id": "gift-wrap",
    "language": "en",
    "category": None,
    "title": "Gift wrapping",
    "questions": ["Do you gift wrap orders?", "Can you wrap my order as a present?"],
    "answer": "Yes: choose gift wrapping at checkout.",
    "short_answer": "Yes, choose gift wrapping at checkout.",
}


def test_an_admin_adds_edits_and_deletes_a_knowledge_entry(client, admin, settings):
    made = client.post(f"{API}/settings/knowledge", json=ENTRY, headers=admin)
    twice = client.post(f"{API}/settings/knowledge", json=ENTRY, headers=admin)
    edited = client.put(
        f"{API}/settings/knowledge/gift-wrap",
        json=ENTRY | {"answer": "Yes, for free."},
        headers=admin,
    )
    entries = _by(
        client.get(f"{API}/settings/knowledge", headers=admin).json()["entries"], "language", "id"
    )

    assert made.status_code == 201, made.text
    assert (made.json()["source"], made.json()["overrides_file"]) == ("console", False)
    assert (twice.status_code, twice.json()["errors"]) == (409, {"id": "already_exists"})
    assert edited.status_code == 200, edited.text
    assert entries[("en", "gift-wrap")]["answer"] == "Yes, for free."
    assert [e.action for e in _audit(settings, "knowledge_created")] == ["knowledge_created"]
    saved = _audit(settings, "knowledge_saved")
    assert saved[0].details["changes"]["answer"][1] == "Yes, for free."

    gone = client.delete(f"{API}/settings/knowledge/gift-wrap?language=en", headers=admin)
    entries = client.get(f"{API}/settings/knowledge", headers=admin).json()["entries"]

    assert gone.status_code == 204
    assert "gift-wrap" not in {e["id"] for e in entries}
    assert _audit(settings, "knowledge_deleted")[0].target_id == "en/gift-wrap"


def test_a_file_entry_gets_an_override_that_resets(client, admin, settings):
    entries = client.get(f"{API}/settings/knowledge", headers=admin).json()["entries"]
    invoice = _by(entries, "language", "id")[("en", "invoice")]

    refused = client.delete(f"{API}/settings/knowledge/invoice?language=en", headers=admin)
    changed = client.put(
        f"{API}/settings/knowledge/invoice",
        json=invoice | {"answer": "Invoices are in My Orders."},
        headers=admin,
    )
    reset = client.delete(f"{API}/settings/knowledge/invoice?language=en", headers=admin)
    after = _by(
        client.get(f"{API}/settings/knowledge", headers=admin).json()["entries"], "language", "id"
    )

    assert (refused.status_code, refused.json()["errors"]) == (409, {"base": "read_only"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["source"], changed.json()["overrides_file"]) == ("console", True)
    assert changed.json()["answer"] == "Invoices are in My Orders."
    assert reset.status_code == 204
    assert after[("en", "invoice")] == invoice
    assert after[("zh", "invoice")]["source"] == "file"
    assert len(_audit(settings, "knowledge_reset")) == 1


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"short_answer": "A very long answer for a text message. " * 10}, "short_answer", "SMS"),
        ({"questions": ["only one"]}, "questions", "at least 2"),
        ({"language": "fr"}, "language", "match pattern"),
        ({"id": "Gift Wrap"}, "id", "match pattern"),
        ({"category": "weather"}, "category", "no category named 'weather'"),
        ({"answer": ""}, "answer", "at least 1"),
    ],
)
def test_knowledge_entries_are_checked_like_the_files(
    client, admin, settings, change, field, words
):
    response = client.post(f"{API}/settings/knowledge", json=ENTRY | change, headers=admin)

    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert words in response.json()["messages"][field]
    assert _audit(settings, "knowledge_created") == []


def test_changing_an_unknown_entry_or_its_id_is_refused(client, admin):
    unknown = client.put(
        f"{API}/settings/knowledge/nowhere", json=ENTRY | {"id": "nowhere"}, headers=admin
    )
    renamed = client.put(f"{API}/settings/knowledge/invoice", json=ENTRY, headers=admin)
    no_language = client.delete(f"{API}/settings/knowledge/invoice", headers=admin)

    assert unknown.status_code == 404
    assert (renamed.status_code, renamed.json()["errors"]) == (422, {"id": "immutable"})
    assert no_language.status_code == 422


# -- the effect on the next request -----------------------------------------------------------


def _answered(settings, sender: str) -> tuple[Request, Message]:
    """The request of `sender`'s message and the automatic reply to it, once both exist."""

    def found() -> tuple[Request, Message] | None:
        with unit_of_work(settings) as session:
            reply = session.exec(
                select(Message).where(
                    Message.direction == Direction.OUTBOUND, Message.recipient == sender
                )
            ).first()
            return (session.get(Request, reply.request_id), reply) if reply else None

    return wait_until(found)


def _sms(client, settings, text: str, sender: str) -> tuple[Request, Message]:
    assert post_sms(client, text, sender=sender).status_code == 200
    return _answered(settings, sender)


def test_edited_hours_set_the_next_requests_due_times_and_acknowledgement(
    file_desk, client, worker, admin, settings
):
    before, _ = _sms(
        client, settings, "My cat walked over the keyboard, please help", "+8613800000001"
    )
    today = datetime.now(SHANGHAI).date()
    table = {
        "time_zone": "Asia/Shanghai",
        "opens": "10:30",
        "closes": "11:00",
        "workdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "calendar": "none",
        "holidays": [str(today), str(today + timedelta(days=1))],
    }
    saved = client.put(f"{API}/settings/hours/default", json=table, headers=admin)
    assert saved.status_code == 200, saved.text

    request, ack = _sms(
        client, settings, "My dog ate the packing slip, please help", "+8613800000002"
    )

    hours = HoursConfig.model_validate(table).business_hours()
    policy = SlaPolicyConfig(name="normal", priority="normal", first_response="4h", resolution="3d")
    if request.sla_policy == "urgent":
        policy = SlaPolicyConfig(
            name="urgent", priority="urgent", first_response="30m", resolution="4h"
        )
    expected = due_times(policy, hours, request.created_at)
    assert (request.first_response_due, request.resolution_due) == expected
    assert request.first_response_due.astimezone(SHANGHAI).date() >= today + timedelta(days=2)
    assert before.first_response_due != request.first_response_due
    opening = hours.describe_next_opening(request.created_at, "en")
    assert opening.endswith("at 10:30")
    assert f"An agent will answer after {opening}." in ack.text


def test_an_edited_answer_is_the_next_automatic_answer(file_desk, client, worker, admin, settings):
    question = "How can I contact customer service?"
    _, first = _sms(client, settings, question, "+8613800000003")
    entries = client.get(f"{API}/settings/knowledge", headers=admin).json()["entries"]
    entry = _by(entries, "language", "id")[("en", "contact-methods")]
    assert entry["short_answer"] in first.text

    new = "Call TP on 400-000-0000 or write to help@tp.example."
    saved = client.put(
        f"{API}/settings/knowledge/contact-methods",
        json=entry | {"short_answer": new},
        headers=admin,
    )
    assert saved.status_code == 200, saved.text

    _, answer = _sms(client, settings, question, "+8613800000004")

    assert answer.text.startswith(new)
    assert answer.kind == "answer"


def test_an_edited_template_is_the_next_acknowledgement(file_desk, client, worker, admin, settings):
    text = "Thanks! Your request is #$request_id."
    _sms(client, settings, "My cat walked over the keyboard, please help", "+8613800000005")
    saved = client.put(
        f"{API}/settings/templates/en/acknowledgement_short", json={"text": text}, headers=admin
    )
    assert saved.status_code == 200, saved.text

    request, ack = _sms(
        client, settings, "My dog ate the packing slip, please help", "+8613800000006"
    )

    assert ack.text == f"Thanks! Your request is #{request.id}."
