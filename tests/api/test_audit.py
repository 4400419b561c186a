"""The audit log: every admin change is a line (who, what, which), and no line holds a secret."""

from __future__ import annotations

import json

from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models.auth import AuditLog
from omnidesk.services import audit
from tests.api.seed import make_quarantined, make_request
from tests.factories import TWILIO_SID, TWILIO_TOKEN

API = "/api/v1"


def actions(settings) -> list[tuple[str, str, str, str | None]]:
    with unit_of_work(settings) as session:
        rows = session.exec(select(AuditLog).order_by(AuditLog.id))
        return [(r.actor, r.action, r.target_type, r.target_id) for r in rows]


def test_every_admin_change_is_an_audit_line(twilio_desk, client, people, settings):
    admin = people["admin"].auth
    held = make_quarantined(settings)
    steps = [
        ("POST", "/agents", {"username": "lin", "password": "a long password", "role": "agent"}),
        ("PATCH", "/agents/lin", {"role": "supervisor", "password": "another long one"}),
        ("DELETE", "/agents/lin", None),
        ("POST", "/teams", {"name": "vip"}),
        ("PATCH", "/teams/vip", {"display_name": "VIP"}),
        ("POST", "/routing-rules", {"name": "vip words", "keywords": ["vip"], "team": "vip"}),
        ("PUT", "/routing-rules/order", {"ids": []}),
        (
            "POST",
            "/admin/connectors?skip_check=true",
            {
                "name": "second-sms",
                "channel": "twilio",
                "account_sid": TWILIO_SID,
                "auth_token": TWILIO_TOKEN,
                "from_number": "+15005550099",
            },
        ),
        ("PUT", "/admin/connectors/second-sms?skip_check=true", {"auth_token": "rotated-0001"}),
        ("POST", "/admin/connectors/second-sms/disable", None),
        ("POST", "/admin/connectors/second-sms/enable", None),
        ("POST", f"/quarantine/{held}/discard", None),
    ]
    rule_ids: list[int] = []
    for method, path, body in steps:
        if path == "/routing-rules/order":
            body = {"ids": rule_ids}
        response = client.request(method, API + path, json=body, headers=admin)
        assert response.status_code < 300, (path, response.text)
        if path == "/routing-rules":
            rule_ids.append(response.json()["id"])

    assert [(a, action, kind) for a, action, kind, _ in actions(settings)] == [
        ("admin", "agent_created", "agent"),
        ("admin", "agent_updated", "agent"),
        ("admin", "agent_deactivated", "agent"),
        ("admin", "team_created", "team"),
        ("admin", "team_updated", "team"),
        ("admin", "rule_created", "routing_rule"),
        ("admin", "rules_reordered", "routing_rule"),
        ("admin", "connector_created", "connector"),
        ("admin", "connector_updated", "connector"),
        ("admin", "connector_disabled", "connector"),
        ("admin", "connector_enabled", "connector"),
        ("admin", "quarantine_discarded", "quarantine"),
    ]
    with unit_of_work(settings) as session:
        lines = [json.dumps(r.details) for r in session.exec(select(AuditLog))]
    for secret in ("a long password", "another long one", TWILIO_TOKEN, "rotated-0001"):
        assert all(secret not in line for line in lines)
    updated = json.loads(lines[1])
    assert updated["changes"]["role"] == ["agent", "supervisor"]
    assert updated["changes"]["password_changed"] is True
    assert json.loads(lines[8])["rotated"] == ["auth_token"]


def test_work_on_requests_is_history_not_audit(twilio_desk, client, people, settings):
    request_id = make_request(settings).request_id
    agent = people["agent"].auth

    client.post(f"{API}/requests/{request_id}/notes", json={"text": "hi"}, headers=agent)
    client.post(f"{API}/requests/{request_id}/status", json={"status": "pending"}, headers=agent)

    assert actions(settings) == []


def test_the_audit_log_is_paged_filtered_and_for_admins_only(client, people, settings):
    admin = people["admin"].auth
    for name in ("a-team", "b-team", "c-team"):
        client.post(f"{API}/teams", json={"name": name}, headers=admin)
    client.patch(f"{API}/teams/a-team", json={"display_name": "A"}, headers=admin)

    page = client.get(f"{API}/audit?limit=2", headers=admin).json()
    created = client.get(f"{API}/audit?action=team_created", headers=admin).json()

    assert (page["total"], len(page["items"])) == (4, 2)
    assert page["items"][0]["action"] == "team_updated"  # newest first
    assert [i["target_id"] for i in created["items"]] == ["c-team", "b-team", "a-team"]
    assert client.get(f"{API}/audit", headers=people["supervisor"].auth).status_code == 403


def test_details_are_scrubbed_of_anything_that_looks_secret():
    details = {
        "password": "hunter22",
        "config": {"auth_token": "t0k3n", "account_sid": "AC1"},
        "changes": {"app_secret": ["old", "new"]},
        "password_set": True,
    }

    scrubbed = audit.scrub(details)

    assert scrubbed == {
        "password": "**********",
        "config": {"auth_token": "**********", "account_sid": "AC1"},
        "changes": {"app_secret": ["**********", "**********"]},
        "password_set": True,
    }


def test_an_admin_change_that_fails_leaves_no_audit_line(client, people, settings):
    response = client.post(
        f"{API}/teams", json={"name": "x", "hours": "night"}, headers=people["admin"].auth
    )

    assert response.status_code == 422
    assert response.json()["errors"] == {"hours": "unknown_hours"}
    assert actions(settings) == []


def test_tokens_made_and_revoked_are_audited_with_the_number_not_the_secret(
    client, people, settings
):
    made = client.post(
        f"{API}/auth/tokens", json={"name": "zapier"}, headers=people["agent"].auth
    ).json()
    client.delete(f"{API}/auth/tokens/{made['id']}", headers=people["admin"].auth)

    assert actions(settings) == [
        ("agent", "token_created", "api_token", str(made["id"])),
        ("admin", "token_revoked", "api_token", str(made["id"])),
    ]
    with unit_of_work(settings) as session:
        assert all(
            made["token"] not in json.dumps(r.details) for r in session.exec(select(AuditLog))
        )
