"""SLA due times from policies and hours, and the watchdog that warns and escalates (events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.inbound import InboundMessage, Sender
from omnidesk.models import Event, Request
from omnidesk.services import classify, ingest, route, sla
from omnidesk.services.intake import DeskIntake
from omnidesk.services.pipeline import NullDispatcher, run_stage

pytestmark = pytest.mark.clock

DESK = """
[[teams]]
name = "complaints"
categories = ["complaint"]
lead = "boss"

[[teams]]
name = "general"

[[agents]]
username = "amy"
teams = ["complaints"]
languages = ["en"]

[[agents]]
username = "bob"
teams = ["complaints"]

[[agents]]
username = "boss"
teams = ["complaints"]
availability = "away"

[[sla]]
name = "complaint"
category = "complaint"
first_response = "1h"
resolution = "2d"

[[sla]]
name = "normal"
first_response = "4h"
resolution = "3d"
"""
TEN_AM_BEIJING = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def desk(configure) -> Desk:
    return Desk.load(configure(DESK))


def email_complaint(desk: Desk, *, sid: str = "<c1@mail.example>") -> int:
    from omnidesk.models import ConnectorRecord

    with unit_of_work(desk.settings) as session:
        session.add(ConnectorRecord(name="tp-mail", channel="email"))
    desk.ids.clear()
    intake = DeskIntake(desk, NullDispatcher(), background=False)
    inbound = InboundMessage(
        channel="email",
        connector="tp-mail",
        provider_message_id=sid,
        sender=Sender(kind="email", address="jane@example.com", display_name="Jane"),
        subject="Complaint about a damaged parcel",
        text="I want to file a complaint. The parcel arrived crushed and nobody answers me.",
        received_at=TEN_AM_BEIJING,
    )
    message_id = intake.accept(inbound, b"raw", "message/rfc822").message_id
    labeller = classify.TriageLabeller(desk.settings.triage_model_dir)
    bodies = {
        "ingest": ingest.run,
        "classify": lambda s, m: classify.run(s, m, labeller),
        "route": lambda s, m: route.run(s, m, desk.config),
    }
    for stage, body in bodies.items():
        with unit_of_work(desk.settings) as session:
            if stage == "route":  # the request was opened at 10:00 Beijing time
                request = session.exec(select(Request)).one()
                request.created_at = TEN_AM_BEIJING
                session.add(request)
            run_stage(session, stage, message_id, body)
    return message_id


def the_request(settings) -> Request:
    with Session(get_engine(settings)) as session:
        return session.exec(select(Request)).one()


def kinds(settings) -> list[str]:
    with Session(get_engine(settings)) as session:
        return [e.kind for e in session.exec(select(Event).order_by(col(Event.id)))]


def test_an_english_email_complaint_goes_to_the_complaints_team_with_a_reference(desk):
    email_complaint(desk)
    request = the_request(desk.settings)
    assert (request.category, request.team, str(request.priority)) == (
        "complaint",
        "complaints",
        "high",
    )
    assert request.complaint_ref.startswith("TS20261125")
    assert request.assignee in ("amy", "bob")
    assert request.sla_policy == "complaint"
    assert request.first_response_due == TEN_AM_BEIJING + timedelta(hours=1)
    # two working days of 9 hours from 10:00 Wednesday: Friday 10:00
    assert request.resolution_due == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert kinds(desk.settings)[-4:] == ["routed", "complaint_registered", "sla_set", "assigned"]


def test_the_watchdog_warns_then_escalates_an_unanswered_complaint_and_says_why(desk):
    email_complaint(desk)
    first_owner = the_request(desk.settings).assignee
    due = TEN_AM_BEIJING + timedelta(hours=1)

    with unit_of_work(desk.settings) as session:
        assert sla.watch(session, desk.config, now=due - timedelta(minutes=5)) == []
    assert kinds(desk.settings)[-1] == "sla_warning"

    with unit_of_work(desk.settings) as session:
        escalated = sla.watch(session, desk.config, now=due + timedelta(minutes=10))
    request = the_request(desk.settings)
    assert escalated == [request.id]
    assert str(request.priority) == "urgent"
    assert request.assignee not in (first_owner, None)
    with Session(get_engine(desk.settings)) as session:
        escalation = session.exec(select(Event).where(Event.kind == "escalated")).one()
    assert escalation.data["notified"] == "boss"
    assert "first response due" in escalation.data["reason"]
    assert "passed 10 min ago" in escalation.data["reason"]

    with unit_of_work(desk.settings) as session:  # once per target
        assert sla.watch(session, desk.config, now=due + timedelta(minutes=20)) == []


def test_routing_and_assignment_can_be_replayed_from_the_event_log(desk):
    email_complaint(desk)
    with Session(get_engine(desk.settings)) as session:
        routed = session.exec(select(Event).where(Event.kind == "routed")).one()
        assigned = session.exec(select(Event).where(Event.kind == "assigned")).one()
    from omnidesk.services.rules import Facts, decide

    facts = Facts(
        **{k: v for k, v in routed.data["facts"].items() if k != "tags"},
        tags=frozenset(routed.data["facts"]["tags"]),
    )
    team_categories = {t.name: t.categories for t in desk.config.teams}
    assert decide([], team_categories, "general", facts).team == routed.data["team"]
    loads = assigned.data["candidates"]
    assert assigned.data["assignee"] == min(sorted(loads), key=lambda a: loads[a])


@pytest.mark.parametrize(
    ("opened", "date"),
    [
        (datetime(2026, 12, 7, 15, 59, tzinfo=UTC), "20261207"),  # 23:59 in Beijing
        (datetime(2026, 12, 7, 16, 30, tzinfo=UTC), "20261208"),  # 00:30 in Beijing, UTC's 7th
    ],
)
def test_a_complaints_reference_is_dated_by_the_desks_calendar(opened, date):
    class Rows(list):
        def add(self, row) -> None:
            self.append(row)

    request = Request(id=7, customer_id=1, channel="twilio", connector_id=1, created_at=opened)
    rows = Rows()
    assert route.register_complaint(rows, request, "Asia/Shanghai") == f"TS{date}000007"
    assert rows[-1].data["complaint_ref"] == f"TS{date}000007"
