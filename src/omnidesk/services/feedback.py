"""The feedback record of a resolved request: the agent's tag (resolution, root cause, note), the
customer's rating and comment, and the follow-ups they opened.

A tag is a "feedback_tagged" event {resolution, root_cause, note}; the latest one is the
request's (see models/feedback.py for why there is no table). Resolutions and root causes are
the keys listed in `[feedback]`; an agent may also give a label ("物流延误", "Logistics delay").
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import Event, FollowUp, Request, RequestStatus, Survey
from omnidesk.services import events
from omnidesk.services.feedback_config import Choice

MAX_NOTE = 2000
TAGGABLE = (RequestStatus.RESOLVED, RequestStatus.CLOSED)


def tag_request(
    session: Session,
    request_id: int,
    *,
    resolution: str,
    root_cause: str,
    note: str | None,
    actor: str,
    config: DeskConfig,
) -> Event | None:
    """Tag a resolved request; returns the event, or None when it already has this very tag.

    Raises:
        LookupError: no such request.
        ValueError: the request is not resolved, or a value is not in the configured list.
    """
    request = session.get(Request, request_id)
    if request is None:
        raise LookupError(f"no request #{request_id}")
    if request.status not in TAGGABLE:
        raise ValueError(f"request #{request_id} is {request.status}: tag it once it is resolved")
    values = {
        "resolution": choose(config.feedback.resolutions, resolution, "resolution"),
        "root_cause": choose(config.feedback.root_causes, root_cause, "root cause"),
        "note": (note or "").strip()[:MAX_NOTE] or None,
    }
    latest = current_tag(session, request_id)
    if latest is not None and all(latest.get(k) == v for k, v in values.items()):
        return None
    return events.record(session, "feedback_tagged", request_id=request_id, actor=actor, **values)


def choose(choices: tuple[Choice, ...], given: str, what: str) -> str:
    """The key of the choice `given` names (its key or a label, any case)."""
    wanted = given.strip().casefold()
    for choice in choices:
        if wanted in {n.casefold() for n in (choice.key, choice.zh, choice.en) if n}:
            return choice.key
    known = ", ".join(c.key for c in choices)
    raise ValueError(f"unknown {what} {given!r}: use one of {known}")


def current_tag(session: Session, request_id: int) -> dict[str, Any] | None:
    """The request's latest tag with who set it and when, or None."""
    stmt = (
        select(Event)
        .where(Event.request_id == request_id, Event.kind == "feedback_tagged")
        .order_by(col(Event.id).desc())
    )
    event = session.exec(stmt).first()
    if event is None:
        return None
    return {**event.data, "actor": event.actor, "at": event.at.isoformat()}


def summary(session: Session, request_id: int) -> dict[str, Any]:
    """What `requests show` gives: the rating (latest answered survey), every survey, the tag
    and the follow-ups."""
    surveys = session.exec(
        select(Survey).where(Survey.request_id == request_id).order_by(col(Survey.id))
    ).all()
    answered = [s for s in surveys if s.score is not None]
    rating = answered[-1] if answered else None
    follow_ups = session.exec(
        select(FollowUp).where(FollowUp.request_id == request_id).order_by(col(FollowUp.id))
    ).all()
    return {
        "rating": _rating(rating) if rating else None,
        "surveys": [s.model_dump(mode="json", exclude={"token_id"}) for s in surveys],
        "tag": current_tag(session, request_id),
        "follow_ups": [f.model_dump(mode="json") for f in follow_ups],
    }


def _rating(survey: Survey) -> dict[str, Any]:
    return {
        "score": survey.score,
        "comment": survey.comment,
        "survey_id": survey.id,
        "via": survey.answered_via,
        "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
    }
