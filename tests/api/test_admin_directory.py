"""Admins manage agents, teams and routing rules; the config file's entries stay read-only, and
a console rule routes the next request at once."""

from __future__ import annotations

import pytest
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import Request
from tests.api.seed import make_people, make_request
from tests.factories import post_sms, twilio_toml, wait_until

API = "/api/v1"
FILE_DIRECTORY = """
[[teams]]
name = "general"

[[agents]]
username = "wang"
role = "agent"
teams = ["general"]

[[routing.rules]]
name = "complaints first"
category = ["complaint"]
set_priority = "urgent"
"""


@pytest.fixture
def file_desk(configure, fake_twilio):
    import os

    from tests.factories import TWILIO_TOKEN

    os.environ["TWILIO_AUTH_TOKEN"] = TWILIO_TOKEN
    return configure(twilio_toml(fake_twilio.base_url) + FILE_DIRECTORY)


@pytest.fixture
def admin(people):
    return people["admin"].auth


def test_an_admin_makes_an_agent_who_can_sign_in_and_work_their_team(
    client, people, admin, settings
):
    made = client.post(
        f"{API}/agents",
        headers=admin,
        json={
            "username": "li",
            "password": "a long password",
            "display_name": "Li Na",
            "role": "agent",
            "teams": ["orders"],
            "languages": ["zh"],
            "capacity": 3,
        },
    )
    seeded = make_request(settings)

    assert made.status_code == 201
    assert (made.json()["teams"], made.json()["capacity"], made.json()["source"]) == (
        ["orders"],
        3,
        "console",
    )
    signed_in = client.post(
        f"{API}/auth/login", json={"username": "li", "password": "a long password"}
    )
    assert signed_in.status_code == 200
    assert client.get(f"{API}/requests/{seeded.request_id}").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        ({"username": "agent"}, 409, {"username": "already_exists"}),
        ({"username": "Bad Name"}, 422, {"username": "invalid"}),
        ({"username": "li", "teams": ["ghosts"]}, 422, {"teams": "unknown_team"}),
        ({"username": "li", "password": "short"}, 422, {"password": "too_short"}),
    ],
    ids=["taken", "invalid", "unknown team", "short password"],
)
def test_a_new_agent_is_refused_with_a_reason_per_field(client, admin, body, status, errors):
    response = client.post(f"{API}/agents", json=body, headers=admin)

    assert response.status_code == status
    assert response.json()["errors"] == errors


def test_a_file_agent_only_gets_a_password_or_is_deactivated_here(file_desk, client, settings):
    admin = make_people(settings)["admin"].auth

    role = client.patch(f"{API}/agents/wang", json={"role": "admin"}, headers=admin)
    password = client.patch(
        f"{API}/agents/wang", json={"password": "wang's password"}, headers=admin
    )

    assert role.status_code == 409
    assert role.json()["errors"] == {"role": "read_only"}
    assert password.status_code == 200
    assert (
        client.post(
            f"{API}/auth/login", json={"username": "wang", "password": "wang's password"}
        ).status_code
        == 200
    )


def test_the_last_admin_cannot_be_demoted_or_deactivated(client, admin):
    demote = client.patch(f"{API}/agents/admin", json={"role": "agent"}, headers=admin)
    leave = client.delete(f"{API}/agents/admin", headers=admin)

    assert demote.status_code == leave.status_code == 409
    assert demote.json()["errors"] == {"role": "last_admin"}
    client.post(f"{API}/agents", json={"username": "boss", "role": "admin"}, headers=admin)
    assert (
        client.patch(f"{API}/agents/admin", json={"role": "agent"}, headers=admin).status_code
        == 200
    )


def test_availability_is_set_by_the_agent_or_by_a_supervisor(client, people, settings):
    request_id = make_request(settings, assignee="agent").request_id
    agent, supervisor = people["agent"].auth, people["supervisor"].auth

    online = client.put(
        f"{API}/agents/me/availability", json={"availability": "online"}, headers=agent
    )
    offline = client.put(
        f"{API}/agents/agent/availability", json={"availability": "offline"}, headers=supervisor
    )
    forbidden = client.put(
        f"{API}/agents/outsider/availability", json={"availability": "offline"}, headers=agent
    )

    assert online.json() == {"username": "agent", "availability": "online", "handed_back": []}
    assert offline.json()["handed_back"] == [request_id]
    assert forbidden.status_code == 403
    listed = {a["username"]: a for a in client.get(f"{API}/agents", headers=agent).json()}
    assert listed["agent"]["availability"] == "offline"


def test_teams_are_made_changed_and_deleted_when_nothing_depends_on_them(client, admin, settings):
    made = client.post(f"{API}/teams", json={"name": "night", "lead": "supervisor"}, headers=admin)
    again = client.post(f"{API}/teams", json={"name": "night"}, headers=admin)
    make_request(settings, team="night")
    busy = client.delete(f"{API}/teams/night", headers=admin)
    changed = client.patch(f"{API}/teams/night", json={"display_name": "夜班"}, headers=admin)

    assert made.status_code == 201
    assert made.json()["members"] == []
    assert again.json()["errors"] == {"name": "already_exists"}
    assert busy.json()["errors"] == {"base": "has_open_requests"}
    assert changed.json()["display_name"] == "夜班"
    client.post(f"{API}/teams", json={"name": "empty"}, headers=admin)
    assert client.delete(f"{API}/teams/empty", headers=admin).status_code == 204
    names = [t["name"] for t in client.get(f"{API}/teams", headers=admin).json()]
    assert names == ["billing", "night", "orders"]


@pytest.mark.parametrize(
    ("rule", "errors"),
    [
        ({"name": "x", "team": "ghosts"}, {"team": "unknown_team"}),
        ({"name": "x", "team": "orders", "category": ["gossip"]}, {"category": "unknown_category"}),
        ({"name": "x", "team": "orders", "channel": ["fax"]}, {"channel": "unknown_channel"}),
        ({"name": "x", "team": "orders", "priority": ["asap"]}, {"priority": "value_error"}),
        ({"name": "x", "sla": "platinum"}, {"sla": "unknown_sla"}),
        ({"name": "x", "category": ["order"]}, {"base": "value_error"}),
    ],
    ids=["team", "category", "channel", "priority", "sla", "does nothing"],
)
def test_a_routing_rule_is_refused_with_an_error_per_field(client, admin, rule, errors):
    response = client.post(f"{API}/routing-rules", json=rule, headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"] == errors


def test_console_rules_come_after_the_files_and_can_be_reordered(file_desk, client, settings):
    admin = make_people(settings)["admin"].auth
    first = client.post(
        f"{API}/routing-rules",
        headers=admin,
        json={"name": "refunds", "keywords": ["refund"], "team": "billing"},
    ).json()
    second = client.post(
        f"{API}/routing-rules",
        headers=admin,
        json={"name": "orders", "category": ["order"], "team": "orders"},
    ).json()

    reordered = client.put(
        f"{API}/routing-rules/order", json={"ids": [second["id"], first["id"]]}, headers=admin
    )
    file_rule = reordered.json()[0]
    edit_file_rule = client.put(
        f"{API}/routing-rules/{file_rule['id']}",
        headers=admin,
        json={"name": "x", "team": "orders"},
    )

    assert [(r["name"], r["source"]) for r in reordered.json()] == [
        ("complaints first", "file"),
        ("orders", "console"),
        ("refunds", "console"),
    ]
    assert all(r["position"] >= 1000 for r in reordered.json()[1:])
    assert edit_file_rule.status_code == 409
    bad_order = client.put(f"{API}/routing-rules/order", json={"ids": [first["id"]]}, headers=admin)
    assert bad_order.json()["errors"] == {"ids": "not_every_console_rule"}


def test_a_rule_made_in_the_console_routes_the_next_request(file_desk, client, worker, settings):
    admin = make_people(settings)["admin"].auth
    rule = {"name": "refunds to billing", "keywords": ["refund"], "team": "billing"}
    assert client.post(f"{API}/routing-rules", json=rule, headers=admin).status_code == 201

    post_sms(client, "I want a refund for order 1234567890")

    def routed() -> str | None:
        with unit_of_work(settings) as session:
            request = session.exec(select(Request)).first()
            return request.team if request else None

    assert wait_until(routed) == "billing"
