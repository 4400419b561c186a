"""SLA clocks: due times set when a request is routed, and the watchdog that warns before a
breach and escalates after it (raise priority, tell the team lead, reassign), each as events."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import OPEN_STATUSES, Priority, Request, Team, utcnow
from omnidesk.services import assign, events
from omnidesk.services.hours import BusinessHours
from omnidesk.services.hours_config import due_times, match_policy

HIGHER = {
    Priority.LOW: Priority.NORMAL,
    Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT,
    Priority.URGENT: Priority.URGENT,
}
WARN_SHARE = 0.2  # warn when a fifth of the target is left
MAX_WARN = timedelta(hours=1)


def hours_of(session: Session, config: DeskConfig, team_name: str | None) -> BusinessHours:
    team = session.exec(select(Team).where(Team.name == team_name)).first() if team_name else None
    name = team.hours if team else "default"
    return (
        config.hours.get(name)
        or config.hours.get("default")
        or BusinessHours(time_zone=config.desk.time_zone)
    )


def apply(session: Session, request: Request, config: DeskConfig) -> None:
    """Set the request's due times from its policy (named by a rule, else the best match)."""
    by_name = {p.name: p for p in config.sla}
    policy = by_name.get(request.sla_policy or "") or match_policy(
        config.sla, str(request.priority), request.category
    )
    if policy is None:
        return
    hours = hours_of(session, config, request.team)
    start = request.created_at
    request.first_response_due, request.resolution_due = due_times(policy, hours, start)
    request.sla_policy = policy.name
    session.add(request)
    events.record(
        session,
        "sla_set",
        request_id=request.id,
        policy=policy.name,
        clock=policy.clock,
        first_response_due=request.first_response_due.isoformat(),
        resolution_due=request.resolution_due.isoformat(),
    )


def watch(session: Session, config: DeskConfig, now: datetime | None = None) -> list[int]:
    """One watchdog round; returns the ids of requests it escalated."""
    now = now or utcnow()
    escalated = []
    stmt = (
        select(Request)
        .where(col(Request.status).in_(OPEN_STATUSES), col(Request.first_response_due).is_not(None))
        .with_for_update(skip_locked=True)
    )
    for request in session.exec(stmt):
        target, due = _pending_target(request)
        if target is None or due is None:
            continue
        if now >= due and request.escalation_level < (1 if target == "first_response" else 2):
            escalate(session, request, target, due, now)
            escalated.append(request.id)  # type: ignore[arg-type]
        elif now < due and request.sla_warned_at is None and due - now <= _warn_window(request):
            warn(session, request, target, due, now)
    return escalated


def _pending_target(request: Request) -> tuple[str | None, datetime | None]:
    if request.first_responded_at is None:
        return "first_response", request.first_response_due
    if request.resolved_at is None and request.resolution_due is not None:
        return "resolution", request.resolution_due
    return None, None


def _warn_window(request: Request) -> timedelta:
    due = request.first_response_due or request.created_at
    return min(MAX_WARN, (due - request.created_at) * WARN_SHARE)


def warn(session: Session, request: Request, target: str, due: datetime, now: datetime) -> None:
    request.sla_warned_at = now
    session.add(request)
    events.record(
        session,
        "sla_warning",
        request_id=request.id,
        target=target,
        due=due.isoformat(),
        minutes_left=round((due - now).total_seconds() / 60),
        notify=_lead(session, request),
        assignee=request.assignee,
    )


def escalate(session: Session, request: Request, target: str, due: datetime, now: datetime) -> None:
    """Raise priority one step, tell the team lead, and hand the request to someone free."""
    previous_priority, previous_assignee = request.priority, request.assignee
    request.priority = HIGHER[request.priority]
    request.escalation_level += 1
    request.sla_warned_at = None
    session.add(request)
    late = round((now - due).total_seconds() / 60)
    events.record(
        session,
        "sla_breached",
        request_id=request.id,
        target=target,
        due=due.isoformat(),
        minutes_late=late,
    )
    events.record(
        session,
        "escalated",
        request_id=request.id,
        target=target,
        reason=f"{target.replace('_', ' ')} due {due.isoformat()} passed {late} min ago unanswered",
        from_priority=str(previous_priority),
        to_priority=str(request.priority),
        notified=_lead(session, request),
        previous_assignee=previous_assignee,
    )
    assign.assign(session, request, exclude=previous_assignee, actor="sla-watchdog")


def _lead(session: Session, request: Request) -> str | None:
    team = session.exec(select(Team).where(Team.name == request.team)).first()
    return team.lead if team else None
