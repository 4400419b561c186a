"""Follow-up tasks for the team's lead: after a low rating or a complaining comment, and some
days after a complaint is resolved. Each opening is a "follow_up_opened" event on the request.

The task names the request, so the whole conversation comes with it (`list_follow_ups`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists
from sqlmodel import Session, col, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import (
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Message,
    Request,
    RequestStatus,
    Survey,
    Team,
    utcnow,
)
from omnidesk.services import events
from omnidesk.services.ratings import is_negative

LOW_RATING = 2  # 1 and 2 are low
DUE_AFTER = timedelta(days=1)
BATCH = 200
CONVERSATION_LIMIT = 50


def for_answer(session: Session, survey: Survey, now: datetime | None = None) -> FollowUp | None:
    """Open the survey's follow-up when its score is low or its comment complains (once)."""
    if survey.score is None:
        return None
    if survey.score <= LOW_RATING:
        kind, why = FollowUpKind.LOW_RATING, f"rated {survey.score}/5"
    elif is_negative(survey.comment):
        kind, why = FollowUpKind.NEGATIVE_COMMENT, f"rated {survey.score}/5 with a complaint"
    else:
        return None
    taken = select(FollowUp.id).where(FollowUp.survey_id == survey.id)
    request = session.get(Request, survey.request_id)
    if request is None or session.exec(taken).first() is not None:
        return None
    reason = f"{why}: “{survey.comment}”" if survey.comment else why
    return open_follow_up(session, request, kind, reason, survey_id=survey.id, now=now)


def open_complaint_follow_ups(
    session: Session, config: DeskConfig, now: datetime | None = None
) -> list[int]:
    """Open a follow-up for each complaint resolved `complaint_follow_up_days` ago without one
    since that resolution; returns the new follow-ups' ids."""
    now = now or utcnow()
    days = config.follow_up.complaint_follow_up_days
    already = exists().where(
        and_(
            FollowUp.request_id == Request.id,
            FollowUp.kind == FollowUpKind.COMPLAINT,
            col(FollowUp.created_at) >= Request.resolved_at,
        )
    )
    stmt = (
        select(Request)
        .where(col(Request.complaint_ref).is_not(None), col(Request.resolved_at).is_not(None))
        .where(col(Request.status).in_([RequestStatus.RESOLVED, RequestStatus.CLOSED]))
        .where(col(Request.resolved_at) <= now - timedelta(days=days), ~already)
        .order_by(col(Request.id))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    opened = []
    for request in session.exec(stmt).all():
        reason = (
            f"complaint {request.complaint_ref} was resolved {days} days ago: check with the "
            "customer that it stays solved"
        )
        follow_up = open_follow_up(session, request, FollowUpKind.COMPLAINT, reason, now=now)
        opened.append(follow_up.id)
    return opened  # type: ignore[return-value]


def open_follow_up(
    session: Session,
    request: Request,
    kind: FollowUpKind,
    reason: str,
    *,
    survey_id: int | None = None,
    now: datetime | None = None,
) -> FollowUp:
    """A task for the request's team lead (no lead: the team), due in a day."""
    now = now or utcnow()
    follow_up = FollowUp(
        request_id=request.id,  # type: ignore[arg-type]
        survey_id=survey_id,
        kind=kind,
        assignee=team_lead(session, request.team),
        team=request.team,
        reason=reason,
        due_at=now + DUE_AFTER,
        created_at=now,
    )
    session.add(follow_up)
    session.flush()
    events.record(
        session,
        "follow_up_opened",
        request_id=request.id,
        follow_up_id=follow_up.id,
        kind=str(kind),
        assignee=follow_up.assignee,
        team=follow_up.team,
        due_at=follow_up.due_at.isoformat(),
        survey_id=survey_id,
        reason=reason,
    )
    return follow_up


def team_lead(session: Session, team_name: str | None) -> str | None:
    if not team_name:
        return None
    return session.exec(select(Team.lead).where(Team.name == team_name)).first()


def mark_done(session: Session, follow_up_id: int, actor: str, note: str | None = None) -> FollowUp:
    """Close a follow-up (a second time changes nothing). Raises LookupError if unknown."""
    follow_up = session.get(FollowUp, follow_up_id, with_for_update=True)
    if follow_up is None:
        raise LookupError(f"no follow-up #{follow_up_id}")
    if follow_up.status == FollowUpStatus.DONE:
        return follow_up
    follow_up.status = FollowUpStatus.DONE
    follow_up.done_at, follow_up.done_by, follow_up.note = utcnow(), actor, note
    session.add(follow_up)
    events.record(
        session,
        "follow_up_done",
        request_id=follow_up.request_id,
        actor=actor,
        follow_up_id=follow_up.id,
        kind=str(follow_up.kind),
        note=note,
    )
    return follow_up


def list_follow_ups(
    session: Session, *, status: str | None = "open", with_conversation: bool = False
) -> list[dict[str, Any]]:
    """Follow-ups, soonest due first; with each request's conversation when asked."""
    stmt = select(FollowUp).order_by(col(FollowUp.due_at), col(FollowUp.id))
    if status:
        stmt = stmt.where(FollowUp.status == status)
    rows = []
    for follow_up in session.exec(stmt):
        row = follow_up.model_dump(mode="json")
        if with_conversation:
            row["conversation"] = conversation(session, follow_up.request_id)
        rows.append(row)
    return rows


def conversation(session: Session, request_id: int) -> list[dict[str, Any]]:
    """The request's messages, oldest first: who wrote what, when."""
    stmt = (
        select(Message)
        .where(Message.request_id == request_id)
        .order_by(col(Message.id).desc())
        .limit(CONVERSATION_LIMIT)
    )
    return [
        {
            "id": m.id,
            "direction": str(m.direction),
            "author": m.author,
            "kind": m.kind,
            "text": m.text,
            "at": (m.received_at or m.created_at).isoformat(),
        }
        for m in reversed(session.exec(stmt).all())
    ]
