"""Merging over the API: two requests about one thing, two customers who are one person."""

from __future__ import annotations

import pytest
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import Message
from tests.api.seed import make_request
from tests.factories import CUSTOMER

API = "/api/v1"


@pytest.fixture
def desk(twilio_desk, client, people):
    return client, people


def test_merging_requests_moves_the_messages_and_closes_the_merged_one(desk, settings):
    client, people = desk
    kept = make_request(settings, text="first")
    merged = make_request(settings, customer_id=kept.customer_id, text="second")
    stranger = make_request(settings, sender="+8613711111111")
    auth = people["agent"].auth

    response = client.post(
        f"{API}/requests/{merged.request_id}/merge", json={"into": kept.request_id}, headers=auth
    )
    again = client.post(
        f"{API}/requests/{merged.request_id}/merge", json={"into": kept.request_id}, headers=auth
    )
    foreign = client.post(
        f"{API}/requests/{stranger.request_id}/merge", json={"into": kept.request_id}, headers=auth
    )

    assert response.status_code == 200
    assert response.json()["id"] == kept.request_id
    assert again.status_code == 409
    assert again.json()["errors"] == {"base": "already_merged"}
    assert foreign.json()["errors"] == {"into": "different_customer"}
    page = client.get(f"{API}/requests/{merged.request_id}", headers=auth).json()
    assert page["request"]["status"] == "closed"
    assert page["merged_into"] == kept.request_id
    with unit_of_work(settings) as session:
        texts = session.exec(select(Message.text).where(Message.request_id == kept.request_id))
        assert sorted(texts) == ["first", "second"]


def test_merging_customers_joins_their_identities_and_requests(desk, settings):
    client, people = desk
    kept = make_request(settings, text="from my phone")
    merged = make_request(settings, sender="+8613722222222", text="from my other phone")
    auth = people["agent"].auth

    response = client.post(
        f"{API}/customers/{merged.customer_id}/merge", json={"into": kept.customer_id}, headers=auth
    )
    itself = client.post(
        f"{API}/customers/{kept.customer_id}/merge", json={"into": kept.customer_id}, headers=auth
    )

    assert response.status_code == 200
    body = response.json()
    assert body["customer"]["id"] == kept.customer_id
    assert {i["address"] for i in body["identities"]} == {CUSTOMER, "+8613722222222"}
    assert [r["id"] for r in body["requests"]] == [kept.request_id, merged.request_id]
    assert itself.json()["errors"] == {"into": "same_customer"}
    shown = client.get(f"{API}/customers/{merged.customer_id}", headers=auth).json()
    assert shown["customer"]["id"] == kept.customer_id
