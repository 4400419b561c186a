"""The agents' API: task lists, a customer's whole history, replies, notes, categories,
reassignment, status changes and merges, over real HTTP on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import (
    Correction,
    DeliveryStatus,
    Direction,
    Identity,
    Message,
    Priority,
    Request,
    RequestStatus,
    utcnow,
)
from tests.api.seed import make_request
from tests.factories import CUSTOMER, post_sms, wait_until

API = "/api/v1"


@pytest.fixture
def desk(twilio_desk, client, people):
    """The Twilio desk (connector tp-sms, live), its API client and its people."""
    return client, people


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json()["items"])


def test_agents_see_their_teams_queues_and_their_own_tasks(desk, settings):
    client, people = desk
    queued = make_request(settings, team="orders").request_id
    mine = make_request(settings, team="orders", assignee="agent").request_id
    elsewhere = make_request(settings, team="billing").request_id
    handed_to_me = make_request(settings, team="billing", assignee="agent").request_id
    untriaged = make_request(settings, team=None).request_id
    agent, supervisor = people["agent"].auth, people["supervisor"].auth

    assert ids(client.get(f"{API}/requests", headers=agent)) == [queued, mine, handed_to_me]
    assert ids(client.get(f"{API}/requests?assignee=me", headers=agent)) == [mine, handed_to_me]
    queue = client.get(f"{API}/requests?team=orders&unassigned=true", headers=agent)
    assert ids(queue) == [queued]
    assert client.get(f"{API}/requests?team=billing", headers=agent).status_code == 403
    everything = client.get(f"{API}/requests", headers=supervisor)
    assert ids(everything) == [queued, mine, elsewhere, handed_to_me, untriaged]


def test_the_task_list_is_paginated_with_a_total(desk, settings):
    client, people = desk
    made = [make_request(settings).request_id for _ in range(5)]

    first = client.get(f"{API}/requests?limit=2", headers=people["agent"].auth).json()
    last = client.get(f"{API}/requests?limit=2&offset=4", headers=people["agent"].auth).json()

    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert [r["id"] for r in first["items"]] == made[::-1][:2]
    assert [r["id"] for r in last["items"]] == made[:1]
    assert first["items"][0]["connector"] == "tp-sms"
    assert first["items"][0]["preview"] == "我的订单什么时候发货？"


def test_filters_narrow_the_task_list(desk, settings):
    client, people = desk
    now = utcnow()
    refund = make_request(
        settings,
        text="Please refund my payment",
        category="payment",
        priority=Priority.HIGH,
        language="en",
        first_response_due=now + timedelta(minutes=10),
    ).request_id
    late = make_request(
        settings, status=RequestStatus.PENDING, resolution_due=now - timedelta(hours=1)
    ).request_id
    done = make_request(settings, status=RequestStatus.RESOLVED).request_id
    auth = people["agent"].auth

    def query(q: str) -> list[int]:
        return ids(client.get(f"{API}/requests?{q}", headers=auth))

    assert query("category=payment") == [refund]
    assert query("priority=high") == [refund]
    assert query("language=en") == [refund]
    assert query("q=REFUND") == [refund]
    assert query("status=pending&status=resolved") == [late, done]
    assert query("channel=twilio") == [refund, late, done]
    due = (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert query(f"sla_due_before={due}") == [refund, late]
    ordered = client.get(f"{API}/requests?sort=due", headers=auth).json()["items"]
    assert [r["id"] for r in ordered] == [late, refund, done]
    assert client.get(f"{API}/requests?status=bogus", headers=auth).status_code == 422


def test_a_request_shows_the_customers_whole_history_across_identities(desk, settings):
    client, people = desk
    first = make_request(settings, text="订单没到")
    second = make_request(
        settings, customer_id=first.customer_id, text="换个号码问一下", category="after_sales"
    )
    client.post(
        f"{API}/requests/{second.request_id}/notes",
        json={"text": "VIP"},
        headers=people["agent"].auth,
    )

    page = client.get(f"{API}/requests/{first.request_id}", headers=people["agent"].auth)

    assert page.status_code == 200
    body = page.json()
    assert body["request"]["id"] == first.request_id
    assert body["customer"]["id"] == first.customer_id
    assert len(body["identities"]) == 2
    assert [r["id"] for r in body["requests"]] == [first.request_id, second.request_id]
    assert [m["text"] for m in body["messages"]] == ["订单没到", "换个号码问一下"]
    assert [e["kind"] for e in body["events"]] == ["note"]
    options = body["reply_options"]
    assert {o["identity_id"] for o in options} == {first.identity_id, second.identity_id}
    assert [o["address"] for o in options if o["default"]] == [CUSTOMER]


def test_an_agents_reply_reaches_the_customer_through_their_channel(
    twilio_desk, client, people, worker, fake_twilio
):
    # Given a team with an online agent, and a customer's SMS routed to it
    admin, agent = people["admin"].auth, people["agent"].auth
    assert client.post(f"{API}/teams", json={"name": "general"}, headers=admin).status_code == 201
    assert (
        client.patch(
            f"{API}/agents/agent", json={"teams": ["orders", "general"]}, headers=admin
        ).status_code
        == 200
    )
    client.put(f"{API}/agents/me/availability", json={"availability": "online"}, headers=agent)
    post_sms(client, "Where is my order 1234567890?")
    wait_until(lambda: fake_twilio.messages)  # the acknowledgement
    task = wait_until(
        lambda: client.get(f"{API}/requests?assignee=me", headers=agent).json()["items"]
    )[0]

    # When the agent replies
    reply = client.post(
        f"{API}/requests/{task['id']}/reply",
        headers=agent,
        json={"text": "It left our warehouse today."},
    )

    # Then the reply is a row, and Twilio gets it for the customer
    assert reply.status_code == 201
    assert reply.json()["status"] == "pending"
    assert reply.json()["author"] == "agent"
    sent = wait_until(lambda: [m for m in fake_twilio.messages if "warehouse" in m["body"]])
    assert sent[0]["to"] == CUSTOMER

    def answered() -> bool:
        with unit_of_work(settings_of(client)) as session:
            request = session.get(Request, task["id"])
            return request.first_responded_at is not None

    wait_until(answered)


def settings_of(client):
    return client.app.state.settings


def test_a_reply_can_go_to_another_identity_of_the_customer(
    twilio_desk, client, people, worker, fake_twilio
):
    first = make_request(twilio_desk)
    other = make_request(twilio_desk, customer_id=first.customer_id, text="this is my new phone")
    stranger = make_request(twilio_desk, sender="+8613700000000")
    auth = people["agent"].auth

    reply = client.post(
        f"{API}/requests/{first.request_id}/reply",
        headers=auth,
        json={"text": "Got it", "channel_identity_id": other.identity_id},
    )
    refused = client.post(
        f"{API}/requests/{first.request_id}/reply",
        headers=auth,
        json={"text": "Got it", "channel_identity_id": stranger.identity_id},
    )

    assert reply.status_code == 201
    new_phone = reply.json()["recipient"]
    assert new_phone != CUSTOMER
    sent = wait_until(lambda: fake_twilio.messages)
    assert sent[0]["to"] == new_phone
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"channel_identity_id": "not_this_customer"}


def test_a_reply_to_an_opted_out_identity_or_dead_connector_is_refused(desk, settings):
    client, people = desk
    seeded = make_request(settings)
    gone = make_request(settings, connector="retired-sms", sender="+8613600000000")
    with unit_of_work(settings) as session:
        identity = session.get(Identity, seeded.identity_id)
        identity.opted_out = True
        session.add(identity)
    auth = people["agent"].auth

    opted_out = client.post(
        f"{API}/requests/{seeded.request_id}/reply",
        headers=auth,
        json={"text": "hi", "channel_identity_id": seeded.identity_id},
    )
    dead = client.post(f"{API}/requests/{gone.request_id}/reply", headers=auth, json={"text": "hi"})

    assert opted_out.status_code == 409
    assert opted_out.json()["errors"] == {"channel_identity_id": "opted_out"}
    assert dead.status_code == 409
    assert dead.json()["errors"] == {"base": "connector_unavailable"}


def test_a_note_is_an_internal_line_of_the_history(desk, settings):
    client, people = desk
    seeded = make_request(settings)

    note = client.post(
        f"{API}/requests/{seeded.request_id}/notes",
        headers=people["agent"].auth,
        json={"text": "Customer called twice, be gentle"},
    )
    blank = client.post(
        f"{API}/requests/{seeded.request_id}/notes",
        headers=people["agent"].auth,
        json={"text": "   "},
    )

    assert note.status_code == 201
    assert (note.json()["kind"], note.json()["actor"]) == ("note", "agent")
    assert note.json()["data"] == {"text": "Customer called twice, be gentle"}
    assert blank.status_code == 422
    with unit_of_work(settings) as session:
        outbound = session.exec(select(Message).where(Message.direction == Direction.OUTBOUND))
        assert outbound.all() == []


def test_a_category_change_is_kept_as_a_training_correction(desk, settings):
    client, people = desk
    seeded = make_request(settings, text="付款扣了两次钱")

    changed = client.put(
        f"{API}/requests/{seeded.request_id}/category",
        json={"category": "payment"},
        headers=people["agent"].auth,
    )
    unknown = client.put(
        f"{API}/requests/{seeded.request_id}/category",
        json={"category": "gossip"},
        headers=people["agent"].auth,
    )

    assert changed.status_code == 200
    assert changed.json()["category"] == "payment"
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == {"category": "unknown_category"}
    with unit_of_work(settings) as session:
        correction = session.exec(select(Correction)).one()
    assert (correction.text, correction.to_category, correction.actor) == (
        "付款扣了两次钱",
        "payment",
        "agent",
    )


def test_reassignment_within_the_team_and_across_teams(desk, settings):
    client, people = desk
    request_id = make_request(settings).request_id
    url = f"{API}/requests/{request_id}/assignee"
    agent, supervisor = people["agent"].auth, people["supervisor"].auth

    taken = client.put(url, json={"assignee": "agent"}, headers=agent)
    outside = client.put(url, json={"assignee": "outsider"}, headers=agent)
    nobody = client.put(url, json={"assignee": "ghost"}, headers=supervisor)
    queued = client.put(url, json={"assignee": None}, headers=agent)
    moved = client.put(url, json={"assignee": "outsider", "team": "billing"}, headers=supervisor)

    assert taken.json()["assignee"] == "agent"
    assert outside.status_code == 422
    assert outside.json()["errors"] == {"assignee": "not_in_team"}
    assert nobody.json()["errors"] == {"assignee": "unknown_agent"}
    assert queued.json()["assignee"] is None
    assert (moved.json()["team"], moved.json()["assignee"]) == ("billing", "outsider")
    assert client.get(f"{API}/requests/{request_id}", headers=agent).status_code == 403
    history = client.get(f"{API}/requests/{request_id}", headers=supervisor).json()["events"]
    assert [e["kind"] for e in history] == ["assigned", "unassigned", "transferred", "assigned"]


def test_pending_resolved_and_reopened(desk, settings):
    client, people = desk
    request_id = make_request(settings).request_id
    url = f"{API}/requests/{request_id}/status"
    auth = people["agent"].auth

    pending = client.post(url, json={"status": "pending"}, headers=auth).json()
    resolved = client.post(url, json={"status": "resolved", "note": "refunded"}, headers=auth)
    reopened = client.post(url, json={"status": "open"}, headers=auth).json()
    new = client.post(url, json={"status": "new"}, headers=auth)

    assert pending["status"] == "pending"
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    assert (reopened["status"], reopened["resolved_at"]) == ("open", None)
    assert new.status_code == 422
    events = client.get(f"{API}/requests/{request_id}", headers=auth).json()["events"]
    changes = [e["kind"] for e in events if e["kind"] in ("pending", "resolved", "reopened")]
    assert changes == ["pending", "resolved", "reopened"]


def test_resolving_a_complaint_tells_the_customer_on_their_channel(
    twilio_desk, client, people, worker, fake_twilio
):
    request_id = make_request(twilio_desk, category="complaint", complaint_ref="TS-0001").request_id

    response = client.post(
        f"{API}/requests/{request_id}/status",
        json={"status": "resolved"},
        headers=people["agent"].auth,
    )

    assert response.status_code == 200
    notice = wait_until(lambda: fake_twilio.messages)[0]
    assert "TS-0001" in notice["body"]
    assert notice["to"] == CUSTOMER


def test_the_delivery_status_of_a_reply_shows_in_the_history(
    twilio_desk, client, people, worker, fake_twilio
):
    seeded = make_request(twilio_desk)
    client.post(
        f"{API}/requests/{seeded.request_id}/reply",
        json={"text": "On its way"},
        headers=people["agent"].auth,
    )

    def delivered() -> bool:
        page = client.get(
            f"{API}/requests/{seeded.request_id}", headers=people["agent"].auth
        ).json()
        out = [m for m in page["messages"] if m["direction"] == "outbound"]
        return bool(out) and out[0]["status"] == DeliveryStatus.DELIVERED

    wait_until(delivered)


def test_a_resolved_request_is_tagged_with_its_resolution_and_root_cause(desk, settings):
    client, people = desk
    request_id = make_request(settings, team="orders", assignee="agent").request_id
    agent = people["agent"].auth
    tag = {"resolution": "refunded", "root_cause": "logistics_delay", "note": "parcel lost"}

    early = client.post(f"{API}/requests/{request_id}/feedback", json=tag, headers=agent)
    assert early.status_code == 409
    resolved = client.post(f"{API}/requests/{request_id}/status", json={"status": "resolved"},
                           headers=agent)
    assert resolved.status_code == 200, resolved.text
    tagged = client.post(f"{API}/requests/{request_id}/feedback", json=tag, headers=agent)
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["tagged"] is True
    assert tagged.json()["tag"]["root_cause"] == "logistics_delay"
    again = client.post(f"{API}/requests/{request_id}/feedback", json=tag, headers=agent)
    assert again.json()["tagged"] is False
    wrong = client.post(f"{API}/requests/{request_id}/feedback", headers=agent,
                        json={"resolution": "refunded", "root_cause": "aliens"})
    assert wrong.status_code == 422
