"""The pipeline as data: stage order, the dispatcher port, and the idempotent stage runner.

Each stage runs on one inbound message. It locks the row, returns at once when the message has
already left the stage (a duplicate delivery of the task), and moves the message to the next stage
in the same transaction as its effect (durability contract §3). The caller commits, then enqueues
what the stage returns. A stage with slow work (the classifier, order and knowledge lookups, the
bot) plans it first in a read-only session (`plan_stage`), does it with no transaction open, and
only then opens its write transaction (§6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Protocol, TypeVar

import structlog
from sqlmodel import Session, select

from omnidesk.models import Message, Stage, utcnow

log = structlog.get_logger(__name__)

STAGES: tuple[str, ...] = ("ingest", "classify", "route", "respond", "record")
SEND = "send"


@dataclass(frozen=True)
class Task:
    """One piece of work to enqueue after commit: a stage (or "send") and a message id."""

    stage: str
    message_id: int


class Dispatcher(Protocol):
    """Enqueues work; implemented by workers.dispatch:DramatiqDispatcher."""

    def dispatch(self, stage: str, message_id: int) -> None: ...


class NullDispatcher:
    """Enqueues nothing (tools that only read, and tests that drive stages by hand)."""

    def dispatch(self, stage: str, message_id: int) -> None:
        return None


def resolve_dispatcher(dotted: str) -> Dispatcher:
    """Build the dispatcher named `module:Class` in settings (Mailman's find_name)."""
    module_name, _, attr = dotted.partition(":")
    factory = getattr(import_module(module_name), attr)
    return factory()  # type: ignore[no-any-return]


def next_stage(stage: str) -> Stage:
    index = STAGES.index(stage)
    return Stage(STAGES[index + 1]) if index + 1 < len(STAGES) else Stage.DONE


StageBody = Callable[[Session, Message], list[Task] | None]
P = TypeVar("P")


def plan_stage(
    session: Session, stage: str, message_id: int, plan: Callable[[Session, Message], P]
) -> P | None:
    """What a stage's slow work needs, read in a read-only session (no lock, no write): None
    when the message is not (or no longer) at this stage. The slow work then runs with no
    transaction open, and `run_stage` writes its result in a short one that checks again."""
    message = session.get(Message, message_id)
    if message is None or message.stage != stage:
        return None
    return plan(session, message)


def lock_message(session: Session, message_id: int) -> Message | None:
    """Load a message for update (row lock on PostgreSQL; SQLite serialises by BEGIN IMMEDIATE)."""
    stmt = select(Message).where(Message.id == message_id).with_for_update()
    return session.exec(stmt).first()


def run_stage(session: Session, stage: str, message_id: int, body: StageBody) -> list[Task]:
    """Run one stage once for one message; return what to enqueue after commit."""
    message = lock_message(session, message_id)
    if message is None or message.stage != stage:
        return []
    structlog.contextvars.bind_contextvars(message_id=message_id, request_id=message.request_id)
    extra = body(session, message) or []
    structlog.contextvars.bind_contextvars(request_id=message.request_id)
    advance(message, next_stage(stage))
    session.add(message)
    log.info("stage_completed", stage=stage, next_stage=str(message.stage))
    follow = [] if message.stage == Stage.DONE else [Task(str(message.stage), message_id)]
    return extra + follow


def advance(message: Message, stage: Stage) -> None:
    message.stage = stage
    message.stage_changed_at = utcnow()
    message.updated_at = message.stage_changed_at
