"""Stage 5, record: close the message's journey in the event log, with its pipeline time."""

from __future__ import annotations

from sqlmodel import Session

from omnidesk.models import Message, utcnow
from omnidesk.services import events
from omnidesk.services.pipeline import Task


def run(session: Session, message: Message) -> list[Task]:
    started = message.created_at
    events.record(
        session,
        "recorded",
        request_id=message.request_id,
        message_id=message.id,
        pipeline_ms=round((utcnow() - started).total_seconds() * 1000) if started else None,
    )
    return []
