"""An agent changes a request's priority: an event says who and why, and the SLA clocks follow."""

from __future__ import annotations

from sqlmodel import Session

from omnidesk.config_file import DeskConfig
from omnidesk.models import Priority, Request, utcnow
from omnidesk.services import events, sla
from omnidesk.services.hours_config import match_policy
from omnidesk.services.problems import Rejected

MAX_REASON = 500


def change(
    session: Session,
    request: Request,
    new: Priority,
    actor: str,
    reason: str,
    config: DeskConfig,
) -> Request:
    """Set the priority and recompute the due times (services.sla) from the creation time.

    A policy a routing rule named stays (rules pin it whatever the priority); a policy that was
    only the best match for the old priority is matched again for the new one. Unchanged
    priority changes nothing and writes no event.
    """
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise Rejected.one("reason", "empty" if not reason else "too_long", "say why")
    previous = request.priority
    if new == previous:
        return request
    pinned = _pinned_by_rule(request, config, previous)
    request.priority = new
    request.updated_at = utcnow()
    session.add(request)
    events.record(
        session,
        "priority_changed",
        request_id=request.id,
        actor=actor,
        from_priority=str(previous),
        to_priority=str(new),
        reason=reason,
    )
    if request.team is not None:  # not routed yet: routing sets the clocks later
        _recompute_sla(session, request, config, pinned)
    return request


def _pinned_by_rule(request: Request, config: DeskConfig, previous: Priority) -> bool:
    """Whether the request's policy was named by a rule rather than matched on priority."""
    if request.sla_policy is None:
        return False
    matched = match_policy(config.sla, str(previous), request.category)
    return matched is None or matched.name != request.sla_policy


def _recompute_sla(session: Session, request: Request, config: DeskConfig, pinned: bool) -> None:
    before = (request.first_response_due, request.resolution_due)
    if not pinned:
        request.sla_policy = None
    sla.apply(session, request, config)
    if request.sla_policy is None:  # no policy fits the new priority: no clock runs
        request.first_response_due = request.resolution_due = None
    if (request.first_response_due, request.resolution_due) != before:
        request.sla_warned_at = None  # the watchdog warns again against the new due time
    session.add(request)
