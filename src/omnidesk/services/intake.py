"""Intake: store an inbound message once (durability contract §1), then enqueue its ingestion.

The connector's webhook answers its provider only after `accept` returns, and `accept` returns
only after the commit. Enqueueing runs after the commit on a small thread pool, so a broker that
is slow or down never delays the provider's answer; the sweeper picks up anything not enqueued.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from omnidesk.connector import Accepted
from omnidesk.db import unit_of_work
from omnidesk.errors import ConfigError
from omnidesk.inbound import InboundMessage
from omnidesk.models import (
    DeliveryStatus,
    Direction,
    Message,
    QuarantinedPayload,
    RawPayload,
    Stage,
    utcnow,
)
from omnidesk.services import events
from omnidesk.services.pipeline import Dispatcher

if TYPE_CHECKING:
    from fastapi import Request

    from omnidesk.desk import Desk

log = structlog.get_logger(__name__)


class DeskIntake:
    """The Intake of `omnidesk.connector`, backed by the database and a dispatcher."""

    def __init__(self, desk: Desk, dispatcher: Dispatcher, *, background: bool = True) -> None:
        self.desk = desk
        self.settings = desk.settings
        self.dispatcher = dispatcher
        self._pool = (
            ThreadPoolExecutor(max_workers=4, thread_name_prefix="enqueue") if background else None
        )

    def accept(self, inbound: InboundMessage, raw: bytes, content_type: str) -> Accepted:
        """See `Intake.accept`."""
        connector_id = self._connector_id(inbound.connector)
        try:
            with unit_of_work(self.settings) as session:
                accepted = _store(session, connector_id, inbound, raw, content_type)
        except IntegrityError:
            # A concurrent delivery of the same message won the insert.
            with unit_of_work(self.settings) as session:
                existing = _find(session, connector_id, inbound.provider_message_id)
            assert existing is not None
            accepted = Accepted(existing.id, duplicate=True)  # type: ignore[arg-type]
        bound = log.bind(connector=inbound.connector, message_id=accepted.message_id)
        if accepted.duplicate:
            bound.info("message_duplicate", provider_message_id=inbound.provider_message_id)
            return accepted
        bound.info("message_received", channel=inbound.channel)
        self.enqueue("ingest", accepted.message_id)
        return accepted

    def enqueue(self, stage: str, message_id: int) -> None:
        """Hand work to the queue after commit; a failure only delays it (the sweeper retries)."""
        if self._pool is None:
            _dispatch_safely(self.dispatcher, stage, message_id)
        else:
            self._pool.submit(_dispatch_safely, self.dispatcher, stage, message_id)

    def update_delivery(
        self,
        connector: str,
        provider_message_id: str,
        status: str,
        error_code: str | None = None,
        error_reason: str | None = None,
    ) -> bool:
        """See `Intake.update_delivery`. Reports arrive out of order: a lower rank is ignored."""
        connector_id = self._connector_id(connector)
        new = DeliveryStatus(status)
        with unit_of_work(self.settings) as session:
            message = _find(session, connector_id, provider_message_id, lock=True)
            if message is None or message.direction != Direction.OUTBOUND:
                return False
            if new.rank <= message.status.rank:
                return True
            message.status = new
            message.error_code = error_code or message.error_code
            message.error_reason = error_reason or message.error_reason
            message.updated_at = utcnow()
            session.add(message)
            kind = "reply_failed" if new.terminal and new != DeliveryStatus.READ else f"reply_{new}"
            events.record(
                session,
                kind,
                request_id=message.request_id,
                message_id=message.id,
                connector_id=connector_id,
                status=str(new),
                error_code=error_code,
                error_reason=error_reason,
            )
        log.info("delivery_updated", connector=connector, message_id=message.id, status=str(new))
        return True

    def quarantine(self, connector: str, raw: bytes, content_type: str, reason: str) -> int:
        """See `Intake.quarantine`."""
        connector_id = self._connector_id(connector)
        with unit_of_work(self.settings) as session:
            payload = _raw(session, raw, content_type)
            held = QuarantinedPayload(
                connector_id=connector_id,
                raw_payload_id=payload.id,
                reason=reason,  # type: ignore[arg-type]
            )
            session.add(held)
            session.flush()
            events.record(
                session,
                "quarantined",
                connector_id=connector_id,
                reason=reason,
                quarantine_id=held.id,
            )
        log.warning(
            "message_quarantined", connector=connector, reason=reason, quarantine_id=held.id
        )
        return held.id  # type: ignore[return-value]

    def public_url(self, request: Request) -> str:
        """See `Intake.public_url`."""
        path = request.scope.get("omnidesk.original_path") or request.url.path
        query = request.url.query
        return f"{self.settings.public_url}{path}" + (f"?{query}" if query else "")

    def _connector_id(self, name: str) -> int:
        connector_id = self.desk.connector_id(name)
        if connector_id is None:
            raise ConfigError(f"unknown connector {name!r}")
        return connector_id


def _dispatch_safely(dispatcher: Dispatcher, stage: str, message_id: int) -> None:
    try:
        dispatcher.dispatch(stage, message_id)
    except Exception as exc:  # noqa: BLE001 - the sweeper re-enqueues; never lose the webhook
        log.warning("enqueue_failed", stage=stage, message_id=message_id, error=str(exc))


def _find(
    session: Session, connector_id: int, provider_message_id: str, lock: bool = False
) -> Message | None:
    stmt = select(Message).where(
        Message.connector_id == connector_id, Message.provider_message_id == provider_message_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def _raw(session: Session, raw: bytes, content_type: str) -> RawPayload:
    payload = RawPayload(
        sha256=hashlib.sha256(raw).hexdigest(),
        content_type=content_type,
        size=len(raw),
        content=raw,
    )
    session.add(payload)
    session.flush()
    return payload


def _store(
    session: Session, connector_id: int, inbound: InboundMessage, raw: bytes, content_type: str
) -> Accepted:
    existing = _find(session, connector_id, inbound.provider_message_id)
    if existing is not None:
        return Accepted(existing.id, duplicate=True)  # type: ignore[arg-type]
    payload = _raw(session, raw, content_type)
    now = utcnow()
    message = Message(
        connector_id=connector_id,
        channel=inbound.channel,
        direction=Direction.INBOUND,
        provider_message_id=inbound.provider_message_id,
        sender=inbound.sender.address,
        sender_kind=inbound.sender.kind,
        sender_name=inbound.sender.display_name,
        recipient=inbound.recipient,
        subject=inbound.subject,
        text=inbound.text,
        html=inbound.html,
        attachments=[a.model_dump(mode="json") for a in inbound.attachments],
        thread=inbound.thread.model_dump(mode="json"),
        context=dict(inbound.context),
        raw_payload_id=payload.id,
        automatic=inbound.automatic,
        sent_at=inbound.sent_at,
        received_at=inbound.received_at,
        stage=Stage.INGEST,
        stage_changed_at=now,
        status=DeliveryStatus.RECEIVED,
    )
    session.add(message)
    session.flush()
    events.record(
        session,
        "received",
        message_id=message.id,
        connector_id=connector_id,
        channel=inbound.channel,
        provider_message_id=inbound.provider_message_id,
    )
    return Accepted(message.id, duplicate=False)  # type: ignore[arg-type]
