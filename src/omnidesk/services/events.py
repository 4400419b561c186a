"""Append one line to the event log (the request's history, feedback record and audit trail)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from omnidesk.models import Event


def record(
    session: Session,
    kind: str,
    /,
    *,
    request_id: int | None = None,
    message_id: int | None = None,
    customer_id: int | None = None,
    connector_id: int | None = None,
    actor: str = "system",
    **data: Any,
) -> Event:
    """Add an event to the session; it commits with the caller's transaction."""
    event = Event(
        kind=kind,
        request_id=request_id,
        message_id=message_id,
        customer_id=customer_id,
        connector_id=connector_id,
        actor=actor,
        data=data,
    )
    session.add(event)
    return event


def history(session: Session, request_id: int) -> list[Event]:
    """A request's events, oldest first."""
    stmt = select(Event).where(Event.request_id == request_id).order_by(Event.id)  # type: ignore[arg-type]
    return list(session.exec(stmt))
