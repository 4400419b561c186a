"""Changing a request's priority: who may, the event that says who and why, and the SLA clocks
recomputed from the desk's policies, over real HTTP on the real database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import Event, Priority, Request
from tests.api.seed import make_request

API = "/api/v1"
SLA = """
[[sla]]
name = "urgent"
priority = "urgent"
first_response = "1h"
resolution = "8h"
clock = "wall"

[[sla]]
name = "normal"
priority = "normal"
first_response = "4h"
resolution = "3d"
clock = "wall"

[[sla]]
name = "vip"
first_response = "30m"
resolution = "4h"
clock = "wall"
"""


@pytest.fixture
def desk(twilio_desk, settings):
    """The Twilio desk with SLA policies per priority (wall clock, so due times are plain sums);
    the app reads the config when it starts, so the policies go in before the client."""
    with settings.config.open("a", encoding="utf-8") as config:
        config.write(SLA)
    return settings


@pytest.fixture
def api(desk, client, people):
    return client, people


def seeded(settings, *, policy: str = "normal", hours: int = 4, **fields) -> int:
    request_id = make_request(settings, priority=Priority.NORMAL, **fields).request_id
    with unit_of_work(settings) as session:
        request = session.get(Request, request_id)
        request.sla_policy = policy
        request.first_response_due = request.created_at + timedelta(hours=hours)
        session.add(request)
    return request_id


def stored(settings, request_id: int) -> Request:
    with unit_of_work(settings) as session:
        request = session.get(Request, request_id)
        session.expunge(request)
        return request


def change(client, request_id: int, auth: dict[str, str], **body):
    return client.put(f"{API}/requests/{request_id}/priority", json=body, headers=auth)


def test_an_agent_raises_the_priority_and_the_sla_follows_the_new_policy(api, settings):
    client, people = api
    request_id = seeded(settings)
    created = stored(settings, request_id).created_at

    response = change(
        client, request_id, people["agent"].auth, priority="urgent", reason="customer is a nurse"
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["priority"], body["sla_policy"]) == ("urgent", "urgent")
    assert datetime.fromisoformat(body["first_response_due"]) == created + timedelta(hours=1)
    assert datetime.fromisoformat(body["resolution_due"]) == created + timedelta(hours=8)
    request = stored(settings, request_id)
    assert (request.priority, request.first_response_due) == (
        Priority.URGENT,
        created + timedelta(hours=1),
    )
    with unit_of_work(settings) as session:
        changed = session.exec(select(Event).where(Event.kind == "priority_changed")).one()
    assert changed.request_id == request_id
    assert changed.actor == "agent"
    assert changed.data == {
        "from_priority": "normal",
        "to_priority": "urgent",
        "reason": "customer is a nurse",
    }


def test_the_event_shows_in_the_requests_history(api, settings):
    client, people = api
    request_id = seeded(settings)

    change(client, request_id, people["supervisor"].auth, priority="low", reason="asked to wait")

    history = client.get(f"{API}/requests/{request_id}", headers=people["agent"].auth).json()
    last = [e for e in history["events"] if e["kind"] == "priority_changed"]
    assert [(e["actor"], e["data"]["reason"]) for e in last] == [("supervisor", "asked to wait")]


def test_a_policy_named_by_a_rule_stays_when_the_priority_changes(api, settings):
    client, people = api
    request_id = seeded(settings, policy="vip", hours=1)
    before = stored(settings, request_id)

    response = change(client, request_id, people["agent"].auth, priority="high", reason="vip")

    assert response.json()["priority"] == "high"
    assert response.json()["sla_policy"] == "vip"
    assert datetime.fromisoformat(response.json()["first_response_due"]) == (
        before.created_at + timedelta(minutes=30)
    )


def test_an_agent_of_another_team_may_not_change_it(api, settings):
    client, people = api
    request_id = seeded(settings)

    response = change(client, request_id, people["outsider"].auth, priority="urgent", reason="x")

    assert response.status_code == 403
    assert stored(settings, request_id).priority == Priority.NORMAL
    with unit_of_work(settings) as session:
        assert session.exec(select(Event).where(Event.kind == "priority_changed")).all() == []


@pytest.mark.parametrize(
    "body",
    [
        {"priority": "critical", "reason": "made up"},
        {"priority": "urgent"},
        {"priority": "urgent", "reason": ""},
    ],
    ids=["unknown priority", "no reason", "empty reason"],
)
def test_an_invalid_change_is_refused_with_422(api, settings, body):
    client, people = api
    request_id = seeded(settings)

    response = change(client, request_id, people["agent"].auth, **body)

    assert response.status_code == 422
    assert stored(settings, request_id).priority == Priority.NORMAL


def test_the_same_priority_again_changes_nothing(api, settings):
    client, people = api
    request_id = seeded(settings)

    before = stored(settings, request_id)

    response = change(client, request_id, people["agent"].auth, priority="normal", reason="same")

    assert response.status_code == 200
    after = stored(settings, request_id)
    assert (after.priority, after.first_response_due) == (
        Priority.NORMAL,
        before.first_response_due,
    )
    with unit_of_work(settings) as session:
        assert session.exec(select(Event).where(Event.kind == "priority_changed")).all() == []
