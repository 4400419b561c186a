"""Stage 3, route: rules choose the team (and maybe priority and SLA policy), then assignment
picks the agent; complaints get their reference number. Every decision is an event."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session

from omnidesk.config_file import DeskConfig
from omnidesk.models import Customer, Message, Priority, Request
from omnidesk.services import assign, directory, events, sla
from omnidesk.services.pipeline import Task
from omnidesk.services.rules import Decision, Facts, decide


def facts_of(session: Session, request: Request, message: Message) -> Facts:
    customer = session.get(Customer, request.customer_id)
    return Facts(
        category=request.category,
        channel=request.channel,
        language=request.language,
        priority=str(request.priority),
        text=f"{message.subject or ''}\n{message.text}",
        tags=frozenset(customer.tags if customer else ()),
    )


def decide_for(session: Session, config: DeskConfig, facts: Facts) -> Decision:
    team_categories = {t.name: t.categories for t in config.teams}
    rules = directory.active_rules(session)
    return decide(rules, team_categories, config.routing.default_team, facts)


def run(session: Session, message: Message, config: DeskConfig) -> list[Task]:
    if message.request_id is None:
        return []
    request = session.get(Request, message.request_id)
    if request is None or request.team is not None:
        return []
    facts = facts_of(session, request, message)
    decision = decide_for(session, config, facts)
    request.team = decision.team
    if decision.priority:
        request.priority = Priority(decision.priority)
    request.sla_policy = decision.sla
    session.add(request)
    events.record(
        session,
        "routed",
        request_id=request.id,
        message_id=message.id,
        team=decision.team,
        rule=decision.rule,
        reason=decision.reason,
        priority=str(request.priority),
        facts={
            "category": facts.category,
            "channel": facts.channel,
            "language": facts.language,
            "priority": facts.priority,
            "tags": sorted(facts.tags),
        },
    )
    if request.category == "complaint" and request.complaint_ref is None:
        register_complaint(session, request, config.hours["default"].time_zone)
    if request.bot_active:
        return []  # the bot answers first; SLA and assignment start at hand-off (chatbot)
    sla.apply(session, request, config)
    assign.assign(session, request)
    return []


def register_complaint(session: Session, request: Request, time_zone: str) -> str:
    """Give a complaint its reference (told to the customer; used in every status notice).

    Its date is the day the complaint was opened on the desk's calendar: a complaint opened at
    00:30 in Beijing is dated that day, not the day before as UTC has it.
    """
    opened = request.created_at.astimezone(ZoneInfo(time_zone))
    request.complaint_ref = f"TS{opened:%Y%m%d}{request.id:06d}"
    if request.priority in (Priority.NORMAL, Priority.LOW):
        request.priority = Priority.HIGH
    session.add(request)
    events.record(
        session,
        "complaint_registered",
        request_id=request.id,
        complaint_ref=request.complaint_ref,
        priority=str(request.priority),
    )
    return request.complaint_ref
