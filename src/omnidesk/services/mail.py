"""Mailbox bookkeeping for pollers (UID marks, dedupe look-ups, connector state) and the
per-address limit on automatic replies (RFC 3834).

`DeskMailboxBook` is the database side of a mailbox poller, handed to `poll()` beside the
Intake; like `DeskIntake` it owns its transactions. `auto_reply_allowed` is a plain service for
the respond stage: it reads, never commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import structlog
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from omnidesk.db import unit_of_work
from omnidesk.errors import ConfigError
from omnidesk.models import (
    ConnectorRecord,
    ConnectorState,
    Direction,
    MailboxState,
    Message,
    QuarantinedPayload,
    RawPayload,
    utcnow,
)
from omnidesk.services import events

if TYPE_CHECKING:
    from omnidesk.desk import Desk

log = structlog.get_logger(__name__)

AUTO_REPLY_PERIOD = timedelta(days=1)
# Automatic replies (acknowledgements, automatic answers) are queued by the system.
AUTOMATIC_AUTHOR = "system"
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class MailboxMark:
    """How far a folder has been imported: valid only while its UIDVALIDITY is unchanged."""

    uidvalidity: int
    last_uid: int
    updated_at: datetime | None = None


class MailboxBook(Protocol):
    """What a mailbox poller remembers between runs, and asks before storing."""

    def load(self, connector: str, folder: str) -> MailboxMark | None:
        """The folder's mark, or None before its first import."""
        ...

    def save(self, connector: str, folder: str, mark: MailboxMark) -> None:
        """Record the mark (commits)."""
        ...

    def known_message_ids(self, connector: str, message_ids: Iterable[str]) -> set[str]:
        """Which of these provider message ids the connector already stored."""
        ...

    def was_quarantined(self, connector: str, sha256: str) -> bool:
        """Whether a payload with this digest is already held in quarantine for the connector."""
        ...

    def set_state(self, connector: str, state: str, reason: str | None = None) -> None:
        """Record the connector's runtime state (ready, retrying, needs_reauth) on change."""
        ...


class DeskMailboxBook:
    """The MailboxBook backed by the desk's database."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.settings = desk.settings

    def load(self, connector: str, folder: str) -> MailboxMark | None:
        """See `MailboxBook.load`."""
        with unit_of_work(self.settings) as session:
            row = _state(session, self._id(connector), folder)
            return MailboxMark(row.uidvalidity, row.last_uid, row.updated_at) if row else None

    def save(self, connector: str, folder: str, mark: MailboxMark) -> None:
        """See `MailboxBook.save`; two savers racing on the first insert both end up updating."""
        connector_id = self._id(connector)
        try:
            with unit_of_work(self.settings) as session:
                _upsert_state(session, connector_id, folder, mark)
        except IntegrityError:
            with unit_of_work(self.settings) as session:
                _upsert_state(session, connector_id, folder, mark)

    def known_message_ids(self, connector: str, message_ids: Iterable[str]) -> set[str]:
        """See `MailboxBook.known_message_ids`."""
        connector_id = self._id(connector)
        wanted = list(dict.fromkeys(message_ids))
        found: set[str] = set()
        with unit_of_work(self.settings) as session:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = wanted[start : start + LOOKUP_CHUNK]
                stmt = select(Message.provider_message_id).where(
                    Message.connector_id == connector_id,
                    col(Message.provider_message_id).in_(chunk),
                )
                found.update(i for i in session.exec(stmt) if i)
        return found

    def was_quarantined(self, connector: str, sha256: str) -> bool:
        """See `MailboxBook.was_quarantined`."""
        stmt = (
            select(QuarantinedPayload.id)
            .join(RawPayload, col(RawPayload.id) == col(QuarantinedPayload.raw_payload_id))
            .where(QuarantinedPayload.connector_id == self._id(connector))
            .where(RawPayload.sha256 == sha256)
        )
        with unit_of_work(self.settings) as session:
            return session.exec(stmt).first() is not None

    def set_state(self, connector: str, state: str, reason: str | None = None) -> None:
        """See `MailboxBook.set_state`; a change is an event (STYLE 5)."""
        new = ConnectorState(state)
        with unit_of_work(self.settings) as session:
            record = session.get(ConnectorRecord, self._id(connector), with_for_update=True)
            if record is None or (record.state == new and record.state_reason == reason):
                return
            old, record.state, record.state_reason = record.state, new, reason
            record.updated_at = utcnow()
            session.add(record)
            if old != new:
                events.record(
                    session,
                    "connector_state",
                    connector_id=record.id,
                    old=str(old),
                    new=str(new),
                    reason=reason,
                )
        log.info("connector_state", connector=connector, state=str(new), reason=reason)

    def _id(self, connector: str) -> int:
        connector_id = self.desk.connector_id(connector)
        if connector_id is None:
            raise ConfigError(f"unknown connector {connector!r}")
        return connector_id


def auto_reply_allowed(session: Session, message: Message, limit_per_day: int) -> bool:
    """Whether the desk may still answer `message`'s sender automatically today.

    Counts the automatic replies queued to the same address through the same connector in the
    last 24 hours (RFC 3834 5.1: no more than one per sender per period; we allow a few because
    a customer may rightly open several requests in a day).
    """
    if limit_per_day <= 0 or not message.sender:
        return limit_per_day > 0
    since = utcnow() - AUTO_REPLY_PERIOD
    stmt = (
        select(func.count())
        .select_from(Message)
        .where(
            Message.direction == Direction.OUTBOUND, Message.connector_id == message.connector_id
        )
        .where(Message.author == AUTOMATIC_AUTHOR, col(Message.created_at) >= since)
        .where(func.lower(Message.recipient) == message.sender.lower())
    )
    return int(session.exec(stmt).one()) < limit_per_day


def _state(
    session: Session, connector_id: int, folder: str, lock: bool = False
) -> MailboxState | None:
    stmt = select(MailboxState).where(
        MailboxState.connector_id == connector_id, MailboxState.folder == folder
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def _upsert_state(session: Session, connector_id: int, folder: str, mark: MailboxMark) -> None:
    row = _state(session, connector_id, folder, lock=True) or MailboxState(
        connector_id=connector_id, folder=folder, uidvalidity=mark.uidvalidity
    )
    # Never move back within one UIDVALIDITY (a poller that lost its lease may save late).
    last_uid = (
        max(row.last_uid, mark.last_uid) if row.uidvalidity == mark.uidvalidity else mark.last_uid
    )
    row.uidvalidity, row.last_uid, row.updated_at = mark.uidvalidity, last_uid, utcnow()
    session.add(row)
    session.flush()
