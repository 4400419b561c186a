"""Stages run by hand on a real database: each is idempotent; the sweeper recovers stuck work."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.inbound import InboundMessage, Sender
from omnidesk.models import Direction, Event, Message, Request, RequestStatus, Stage, utcnow
from omnidesk.services import classify, ingest, record, respond, route, sweep
from omnidesk.services.answers import Answerer
from omnidesk.services.intake import DeskIntake
from omnidesk.services.pipeline import SEND, NullDispatcher, Task, run_stage
from tests.factories import twilio_toml


@pytest.fixture
def desk(configure, monkeypatch) -> Desk:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    return Desk.load(configure(twilio_toml("http://127.0.0.1:1")))


def accept(desk: Desk, text: str, sid: str, automatic: str | None = None) -> int:
    intake = DeskIntake(desk, NullDispatcher(), background=False)
    inbound = InboundMessage(
        channel="twilio",
        connector="tp-sms",
        provider_message_id=sid,
        sender=Sender(kind="phone", address="+8613800138000"),
        text=text,
        automatic=automatic,
    )
    return intake.accept(inbound, text.encode(), "text/plain").message_id


def bodies(desk: Desk):
    config = desk.config
    labeller = classify.TriageLabeller(desk.settings.triage_model_dir)
    return {
        "ingest": ingest.run,
        "classify": lambda s, m: classify.run(s, m, labeller),
        "route": lambda s, m: route.run(s, m, config),
        "respond": lambda s, m: respond.run(s, m, config, Answerer.from_config(config)),
        "record": record.run,
    }


def run(desk: Desk, stage: str, message_id: int) -> list[Task]:
    with unit_of_work(desk.settings) as session:
        return run_stage(session, stage, message_id, bodies(desk)[stage])


def counts(settings) -> dict[str, int]:
    with Session(get_engine(settings)) as session:
        return {
            "requests": len(session.exec(select(Request)).all()),
            "messages": len(session.exec(select(Message)).all()),
            "events": len(session.exec(select(Event)).all()),
        }


def test_each_stage_runs_once_and_a_repeat_changes_nothing(desk):
    message_id = accept(desk, "我要投诉，快递把箱子压坏了", "SM1")
    for stage in ("ingest", "classify", "route", "respond", "record"):
        first = run(desk, stage, message_id)
        before = counts(desk.settings)
        assert run(desk, stage, message_id) == []
        assert counts(desk.settings) == before
        if stage == "respond":
            assert [t.stage for t in first] == [SEND, "record"]
    with Session(get_engine(desk.settings)) as session:
        request = session.exec(select(Request)).one()
        message = session.get(Message, message_id)
    assert message.stage == Stage.DONE
    assert (request.category, request.priority, request.team) == ("complaint", "high", "general")


def test_a_duplicate_accept_is_reported_and_stores_nothing(desk):
    intake = DeskIntake(desk, NullDispatcher(), background=False)
    inbound = InboundMessage(
        channel="twilio",
        connector="tp-sms",
        provider_message_id="SM9",
        sender=Sender(kind="phone", address="+8613800138000"),
        text="hi",
    )
    first = intake.accept(inbound, b"raw", "text/plain")
    second = intake.accept(inbound, b"raw", "text/plain")
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.message_id == second.message_id
    assert counts(desk.settings)["messages"] == 1


def test_the_sweeper_requeues_a_stuck_message_then_quarantines_it(desk):
    message_id = accept(desk, "hello", "SM2")
    settings = desk.settings

    def age() -> None:
        with unit_of_work(settings) as session:
            message = session.get(Message, message_id)
            message.stage_changed_at = utcnow() - timedelta(hours=1)
            session.add(message)

    for attempt in range(1, 4):
        age()
        with unit_of_work(settings) as session:
            tasks = sweep.find_stuck(session, timedelta(seconds=60), max_recoveries=3)
        assert tasks == [Task("ingest", message_id)], attempt
    age()
    with unit_of_work(settings) as session:
        assert sweep.find_stuck(session, timedelta(seconds=60), max_recoveries=3) == []
    with Session(get_engine(settings)) as session:
        message = session.get(Message, message_id)
        kinds = [e.kind for e in session.exec(select(Event).where(Event.message_id == message_id))]
    assert message.stage == Stage.QUARANTINED
    assert kinds.count("recovered") == 3
    assert "quarantined" in kinds


def test_a_fresh_message_is_not_swept(desk):
    accept(desk, "hello", "SM3")
    with unit_of_work(desk.settings) as session:
        assert sweep.find_stuck(session, timedelta(seconds=60), max_recoveries=3) == []


def test_an_opt_out_keyword_opens_no_request_and_marks_the_identity(desk):
    from omnidesk.models import Identity

    message_id = accept(desk, "STOP", "SM4", automatic="opt_out")
    for stage in ("ingest", "classify", "route", "respond", "record"):
        run(desk, stage, message_id)
    with Session(get_engine(desk.settings)) as session:
        assert session.exec(select(Request)).all() == []
        assert session.exec(select(Identity)).one().opted_out is True
        assert session.exec(select(Message).where(Message.direction == "outbound")).all() == []


# -- one request and one acknowledgement per customer -------------------------------------------


def through(desk: Desk, message_id: int) -> None:
    for stage in ("ingest", "classify", "route", "respond", "record"):
        run(desk, stage, message_id)


def acknowledgements(settings) -> list[Message]:
    with Session(get_engine(settings)) as session:
        stmt = select(Message).where(Message.direction == Direction.OUTBOUND)
        return list(session.exec(stmt).all())


def test_an_earlier_message_swept_back_after_a_later_one_opened_the_request_is_not_acknowledged(
    desk,
):
    # Given two SMS from one customer; the first one's ingest is lost (a Redis restart)
    earlier = accept(desk, "你好，我想问一下退货", "SM-early")
    later = accept(desk, "订单还没到，怎么回事", "SM-late")
    # When the later one opens the request and is acknowledged, then the sweeper brings back
    # the earlier one
    through(desk, later)
    through(desk, earlier)

    # Then both are on one request, opened by the later message, and one acknowledgement went out
    with Session(get_engine(desk.settings)) as session:
        request = session.exec(select(Request)).one()
        joined = session.exec(select(Message.request_id).where(Message.id == earlier)).one()
    assert request.opening_message_id == later
    assert joined == request.id
    [reply] = acknowledgements(desk.settings)
    assert reply.thread["in_reply_to"] == "SM-late"


def test_two_messages_of_a_returning_customer_at_the_same_instant_open_one_request(
    desk, monkeypatch
):
    # Given a customer whose earlier request is resolved
    earlier = accept(desk, "在吗", "SM-old")
    run(desk, "ingest", earlier)
    with unit_of_work(desk.settings) as session:
        session.exec(select(Request)).one().status = RequestStatus.RESOLVED
    # and two new messages of theirs, ingested by two workers at the same moment, each taking
    # a while between looking for an open request and opening one
    first, second = accept(desk, "订单还没到", "SM-a"), accept(desk, "我的订单呢", "SM-b")
    looked = ingest.find_request

    def slow_find(*args, **kwargs):
        found = looked(*args, **kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(ingest, "find_request", slow_find)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def ingest_one(message_id: int) -> None:
        start.wait()
        try:
            run(desk, "ingest", message_id)
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)

    workers = [threading.Thread(target=ingest_one, args=(m,)) for m in (first, second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    # Then both join one new request
    assert failures == []
    with Session(get_engine(desk.settings)) as session:
        joined = set(session.exec(select(Message.request_id).where(Message.id != earlier)).all())
        requests = session.exec(select(Request)).all()
    assert len(requests) == 2  # the resolved one, and one new
    assert len(joined) == 1
