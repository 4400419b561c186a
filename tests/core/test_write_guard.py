"""The write-transaction guard of the suite (tests/guards.py) catches what it is there for.

The desk's stages do their slow work (the classifier, order-system and knowledge lookups) with
no transaction open; these tests put a call out and a long hold back inside a stage's write
transaction and check that the guard, which runs around every test, reports them.
"""

from __future__ import annotations

import time

import httpx
import pytest

from omnidesk.desk import Desk
from omnidesk.inbound import InboundMessage, Sender
from omnidesk.services import classify
from omnidesk.services.intake import DeskIntake
from omnidesk.services.pipeline import NullDispatcher
from tests import guards
from tests.factories import twilio_toml


@pytest.fixture
def desk(configure, monkeypatch, broker) -> Desk:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    return Desk.load(configure(twilio_toml("http://127.0.0.1:1")))


def ingested(desk: Desk) -> int:
    from workers.pipeline import ingest_message

    intake = DeskIntake(desk, NullDispatcher(), background=False)
    inbound = InboundMessage(
        channel="twilio",
        connector="tp-sms",
        provider_message_id="SM-guard",
        sender=Sender(kind="phone", address="+8613800138000"),
        text="我的订单1234567890到哪了",
    )
    message_id = intake.accept(inbound, b"", "text/plain").message_id
    ingest_message.fn(message_id)
    assert guards.take() == []
    return message_id


def test_an_http_call_inside_a_stages_write_transaction_is_reported(desk, monkeypatch):
    from workers.pipeline import classify_request

    message_id = ingested(desk)

    def calls_out(session, message, label):
        with pytest.raises(httpx.TransportError):
            httpx.get("http://127.0.0.1:9/", timeout=1)
        return []

    monkeypatch.setattr(classify, "apply", calls_out)
    classify_request.fn(message_id)

    [offence] = guards.take()
    assert offence.what == "an HTTP call inside a write transaction"
    assert "workers/pipeline.py" in offence.where


def test_a_write_transaction_held_past_the_budget_is_reported(desk, monkeypatch):
    from workers.pipeline import classify_request

    message_id = ingested(desk)
    monkeypatch.setattr(guards, "BUDGET", 0.05)
    monkeypatch.setattr(classify, "apply", lambda session, message, label: time.sleep(0.2))
    classify_request.fn(message_id)

    [offence] = guards.take()
    assert offence.what.startswith("held a write transaction")


def test_the_classifier_runs_before_the_write_transaction(desk):
    from workers.pipeline import classify_request

    message_id = ingested(desk)
    classify_request.fn(message_id)  # the real stage: the model, then a short write

    assert guards.take() == []
