"""The sweeper: find work that sits in a state too long and hand it back (contract §2).

A killed worker, a restarted Redis or a lost enqueue leaves a message in its stage; after
`stuck_after` it is enqueued again (stages are idempotent). After `max_recoveries` rounds it is
quarantined with the reason instead of going round forever (Mailman's bad queue).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from omnidesk.models import DeliveryStatus, Direction, Message, Stage, utcnow
from omnidesk.services import events
from omnidesk.services.pipeline import SEND, STAGES, Task

BATCH = 500


def find_stuck(session: Session, stuck_after: timedelta, max_recoveries: int) -> list[Task]:
    """Touch and return every stuck inbound stage and outbound send; quarantine the hopeless."""
    return _stuck_stages(session, stuck_after, max_recoveries) + _stuck_sends(session, stuck_after)


def _stuck_stages(session: Session, stuck_after: timedelta, max_recoveries: int) -> list[Task]:
    now = utcnow()
    stmt = (
        select(Message)
        .where(col(Message.stage).in_(STAGES), col(Message.stage_changed_at) < now - stuck_after)
        .order_by(col(Message.id))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    tasks = []
    for message in session.exec(stmt):
        message.recoveries += 1
        stage = str(message.stage)
        if message.recoveries > max_recoveries:
            message.stage = Stage.QUARANTINED
            events.record(
                session,
                "quarantined",
                request_id=message.request_id,
                message_id=message.id,
                reason=f"stuck in stage {stage} after {max_recoveries} recoveries",
            )
        else:
            tasks.append(Task(stage, message.id))  # type: ignore[arg-type]
            events.record(
                session,
                "recovered",
                request_id=message.request_id,
                message_id=message.id,
                stage=stage,
                recoveries=message.recoveries,
            )
        message.stage_changed_at = now
        session.add(message)
    return tasks


def _stuck_sends(session: Session, stuck_after: timedelta) -> list[Task]:
    now = utcnow()
    due = func.coalesce(Message.next_attempt_at, Message.updated_at)
    stmt = (
        select(Message)
        .where(Message.direction == Direction.OUTBOUND)
        .where(col(Message.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
        .where(due < now - stuck_after)
        .order_by(col(Message.id))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    tasks = []
    for message in session.exec(stmt):
        if message.status == DeliveryStatus.PENDING:
            # Touch it so the next sweep does not enqueue it again straight away.
            message.next_attempt_at = now
            session.add(message)
        tasks.append(Task(SEND, message.id))  # type: ignore[arg-type]
    return tasks
