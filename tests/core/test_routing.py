"""Routing rules (first match wins) and assignment (least loaded, round-robin, returning)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.models import Agent, Availability, Customer, Event, Request, RequestStatus
from omnidesk.services import assign
from omnidesk.services.rules import Facts, Rule, decide

RULES = [
    Rule("vip first", {"tags": ("vip",)}, team="vip", priority="high"),
    Rule("legal threats", {"keywords": ("12315", "律师", "lawyer")}, team="complaints",
         priority="urgent", sla="urgent"),
    Rule("english email", {"channel": ("email",), "language": ("en",)}, team="intl"),
]
TEAMS = {"orders": ("order", "payment"), "complaints": ("complaint",)}


def facts(**overrides) -> Facts:
    values = {"category": "order", "channel": "twilio", "language": "zh", "priority": "normal",
              "text": "", "tags": frozenset()}
    return Facts(**(values | overrides))


@pytest.mark.parametrize(
    ("given", "team", "priority", "rule"),
    [
        pytest.param({}, "orders", None, None, id="category-shorthand"),
        pytest.param({"tags": frozenset({"vip"})}, "vip", "high", "vip first", id="vip-tag"),
        pytest.param({"text": "再不退款我就打12315"}, "complaints", "urgent", "legal threats",
                     id="keyword"),
        pytest.param({"channel": "email", "language": "en"}, "intl", None, "english email",
                     id="channel-and-language"),
        pytest.param({"channel": "email", "language": "zh"}, "orders", None, None,
                     id="all-conditions-must-hold"),
        pytest.param({"category": "account"}, "general", None, None, id="default-team"),
        pytest.param({"tags": frozenset({"vip"}), "text": "lawyer"}, "vip", "high", "vip first",
                     id="first-match-wins"),
    ],
)
def test_rules_choose_team_and_priority_in_order(given, team, priority, rule):
    decision = decide(RULES, TEAMS, "general", facts(**given))
    assert (decision.team, decision.priority, decision.rule) == (team, priority, rule)
    assert decision.reason


def agent(name: str, capacity: int = 5, last: datetime | None = None) -> Agent:
    return Agent(username=name, capacity=capacity, last_assigned_at=last,
                 availability=Availability.ONLINE)


def test_least_loaded_agent_wins():
    choice = assign.choose([agent("a"), agent("b")], {"a": 3, "b": 1}, None)
    assert choice.agent == "b"


def test_equals_are_served_round_robin_by_last_assignment():
    earlier = datetime(2026, 11, 25, 1, tzinfo=UTC)
    later = datetime(2026, 11, 25, 2, tzinfo=UTC)
    choice = assign.choose([agent("a", last=later), agent("b", last=earlier)], {}, None)
    assert choice.agent == "b"
    assert "round-robin" in choice.reason


def test_a_returning_customer_goes_back_to_their_agent_when_free():
    candidates = [agent("a"), agent("b", capacity=1)]
    assert assign.choose(candidates, {"a": 0, "b": 0}, "b").agent == "b"
    assert assign.choose(candidates, {"a": 0, "b": 1}, "b").agent == "a"


def test_nobody_free_leaves_the_request_in_the_team_queue():
    assert assign.choose([agent("a", capacity=1)], {"a": 1}, None).agent is None
    assert assign.choose([], {}, None).reason.startswith("no skilled agent")


DIRECTORY = """
[[teams]]
name = "orders"
categories = ["order"]

[[teams]]
name = "general"

[[agents]]
username = "wang"
teams = ["orders"]
languages = ["zh"]
capacity = 2

[[agents]]
username = "li"
teams = ["orders"]
capacity = 2

[[agents]]
username = "smith"
teams = ["orders"]
languages = ["en"]
availability = "offline"
"""


@pytest.fixture
def desk(configure) -> Desk:
    return Desk.load(configure(DIRECTORY))


def new_request(session: Session, language: str = "zh") -> Request:
    customer = Customer()
    session.add(customer)
    session.flush()
    request = Request(customer_id=customer.id, channel="twilio", connector_id=_connector(session),
                      category="order", language=language, team="orders")
    session.add(request)
    session.flush()
    return request


def _connector(session: Session) -> int:
    from omnidesk.models import ConnectorRecord

    record = session.exec(select(ConnectorRecord)).first()
    if record is None:
        record = ConnectorRecord(name="c", channel="twilio")
        session.add(record)
        session.flush()
    return record.id


def test_assignment_spreads_requests_and_respects_skills_and_capacity(desk):
    with unit_of_work(desk.settings) as session:
        picks = [assign.assign(session, new_request(session)).agent for _ in range(5)]
        english = assign.assign(session, new_request(session, language="en")).agent
    assert sorted(picks[:4]) == ["li", "li", "wang", "wang"]
    assert picks[4] is None  # both at capacity: team queue
    assert english is None  # smith speaks English but is offline; li is full


def test_an_agent_going_offline_hands_unanswered_requests_back(desk):
    with unit_of_work(desk.settings) as session:
        first = new_request(session)
        assign.assign(session, first)
        owner = first.assignee
        handed = assign.set_availability(session, owner, Availability.OFFLINE, actor="admin")
    assert handed == [first.id]
    with Session(get_engine(desk.settings)) as session:
        request = session.get(Request, first.id)
        kinds = [e.kind for e in session.exec(select(Event).where(Event.request_id == first.id))]
    assert request.assignee not in (owner, None)
    assert kinds == ["assigned", "unassigned", "assigned"]
    assert request.status == RequestStatus.NEW


def test_config_agents_keep_their_live_availability_across_restarts(desk):
    with unit_of_work(desk.settings) as session:
        assign.set_availability(session, "smith", Availability.ONLINE, actor="smith")
    Desk.load(desk.settings)
    with Session(get_engine(desk.settings)) as session:
        smith = session.exec(select(Agent).where(Agent.username == "smith")).one()
    assert smith.availability == Availability.ONLINE
