"""Quarantined payloads for the console: list, view the raw bytes, retry, discard.

A retry re-reads the raw bytes with the connector's `reparse(raw, content_type)` (an optional
method returning an InboundMessage, or raising Quarantine if it still cannot read them) and
hands the message to intake; a connector without `reparse` cannot retry. The live connector is
used, so a retry after an admin changed its settings (or after a parser fix) reads the bytes
the new way.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.exc import DataError
from sqlmodel import Session, col, select

from omnidesk.connector import Accepted, Connector
from omnidesk.db import unit_of_work
from omnidesk.errors import Quarantine
from omnidesk.inbound import InboundMessage
from omnidesk.models import ConnectorRecord, QuarantinedPayload, RawPayload
from omnidesk.services import audit, events
from omnidesk.services.problems import NotFound, Rejected

if TYPE_CHECKING:
    from omnidesk.desk import Desk
    from omnidesk.services.intake import DeskIntake

HELD = "held"
RETRIED = "retried"
DISCARDED = "discarded"
MAX_REASON = 2000


class Unreadable(Exception):
    """The payload still cannot be read or stored: it stays held with this reason."""


def row(held: QuarantinedPayload, raw: RawPayload | None, connector: str | None) -> dict[str, Any]:
    return held.model_dump(mode="json") | {
        "connector": connector,
        "content_type": raw.content_type if raw else None,
        "size": raw.size if raw else None,
    }


def page(
    session: Session, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    stmt = select(QuarantinedPayload)
    if status:
        stmt = stmt.where(QuarantinedPayload.status == status)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    names = dict(session.exec(select(ConnectorRecord.id, ConnectorRecord.name)).all())
    rows = []
    for held in session.exec(
        stmt.order_by(col(QuarantinedPayload.id).desc()).offset(offset).limit(limit)
    ):
        raw = session.get(RawPayload, held.raw_payload_id)
        rows.append(row(held, raw, names.get(held.connector_id)))
    return rows, int(total)


def view(session: Session, held: QuarantinedPayload) -> dict[str, Any]:
    """The entry with its raw payload: as text when it decodes as UTF-8, else base64."""
    raw = session.get(RawPayload, held.raw_payload_id)
    record = session.get(ConnectorRecord, held.connector_id) if held.connector_id else None
    content = raw.content if raw else b""
    try:
        payload, encoding = content.decode("utf-8"), "text"
    except UnicodeDecodeError:
        payload, encoding = base64.b64encode(content).decode("ascii"), "base64"
    return row(held, raw, record.name if record else None) | {
        "payload": payload,
        "payload_encoding": encoding,
    }


def reparse(
    connector: Connector | None, held: QuarantinedPayload, raw: RawPayload
) -> InboundMessage:
    """Read the payload again with its connector.

    Raises:
        Rejected: 409 when it was settled already or its connector cannot read payloads again;
            422 (`still_unreadable`, with the connector's reason) when the bytes still fail.
    """
    _check_held(held)
    method = getattr(connector, "reparse", None)
    if connector is None or not callable(method):
        raise Rejected.one(
            "base", "not_retryable", "this connector cannot read a payload again", status=409
        )
    try:
        message: InboundMessage = method(raw.content, raw.content_type)
    except Exception as exc:  # noqa: BLE001 - any failure to read is the answer to show
        raise Unreadable(_reason(exc)) from None
    return message


def _reason(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, Quarantine) else f"{type(exc).__name__}: {exc}"
    return text[:MAX_REASON]


def _check_held(held: QuarantinedPayload) -> None:
    if held.status != HELD:
        raise Rejected.one("base", f"already_{held.status}", f"it was {held.status}", status=409)


def settle(
    session: Session, held: QuarantinedPayload, status: str, actor: str, message_id: int | None
) -> None:
    """Mark an entry retried (with the message it became) or discarded, with an event."""
    held.status = status
    held.message_id = message_id or held.message_id
    session.add(held)
    events.record(
        session,
        f"quarantine_{status}",
        connector_id=held.connector_id,
        message_id=message_id,
        actor=actor,
        quarantine_id=held.id,
    )


def _held(session: Session, quarantine_id: int, *, lock: bool = False) -> QuarantinedPayload:
    held = session.get(QuarantinedPayload, quarantine_id, with_for_update=lock)
    if held is None:
        raise NotFound(f"no quarantined payload {quarantine_id}")
    return held


def retry(desk: Desk, intake: DeskIntake, quarantine_id: int, actor: str) -> int:
    """Read the payload again and accept it as a message; returns the message id.

    Idempotent: intake stores a provider message id once, so a payload whose message exists
    already (fetched again, or two admins retrying at once) settles on that message and no
    second one is made; the entry is settled, audited and evented once, under a row lock.
    A payload that still fails stays held with the new reason (Rejected 422).
    Runs outside any open transaction: intake commits the message on its own.
    """
    with unit_of_work(desk.settings) as session:
        held = _held(session, quarantine_id)
        raw = session.get(RawPayload, held.raw_payload_id)
        record = session.get(ConnectorRecord, held.connector_id) if held.connector_id else None
    connector = desk.connector(record.name) if record is not None else None
    try:
        message = reparse(connector, held, raw)  # type: ignore[arg-type]
        accepted = _accept(intake, message, raw)  # type: ignore[arg-type]
    except Unreadable as exc:
        _still_held(desk, quarantine_id, actor, str(exc))
        raise Rejected.one("base", "still_unreadable", str(exc)) from None
    with unit_of_work(desk.settings) as session:
        held = _held(session, quarantine_id, lock=True)
        if held.status == HELD:
            settle(session, held, RETRIED, actor, accepted.message_id)
            audit.record(
                session,
                actor,
                "quarantine_retried",
                "quarantine",
                quarantine_id,
                message_id=accepted.message_id,
                duplicate=accepted.duplicate,
            )
    return accepted.message_id


def _accept(intake: DeskIntake, message: InboundMessage, raw: RawPayload) -> Accepted:
    try:
        return intake.accept(message, raw.content, raw.content_type)
    except (ValueError, DataError) as exc:  # the database refused the values, as at first
        raise Unreadable(f"not_storable: {_reason(exc)}") from None


def _still_held(desk: Desk, quarantine_id: int, actor: str, reason: str) -> None:
    """Keep the entry held with the reason the retry gave, and say who tried."""
    with unit_of_work(desk.settings) as session:
        held = _held(session, quarantine_id, lock=True)
        if held.status != HELD:
            return
        previous, held.reason = held.reason, reason
        session.add(held)
        events.record(
            session,
            "quarantine_retry_failed",
            connector_id=held.connector_id,
            actor=actor,
            quarantine_id=held.id,
            reason=reason,
        )
        audit.record(
            session,
            actor,
            "quarantine_retry_failed",
            "quarantine",
            quarantine_id,
            reason=reason,
            previous_reason=previous,
        )


def discard(session: Session, quarantine_id: int, actor: str) -> None:
    held = _held(session, quarantine_id, lock=True)
    _check_held(held)
    settle(session, held, DISCARDED, actor, None)
    audit.record(
        session, actor, "quarantine_discarded", "quarantine", quarantine_id, reason=held.reason
    )


def get(session: Session, quarantine_id: int) -> dict[str, Any]:
    return view(session, _held(session, quarantine_id))
