"""Outbound rows through their life: claim once, then sent, retried or failed (contract §4)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from omnidesk.inbound import Attachment
from omnidesk.models import DeliveryStatus, Direction, Message, Request, utcnow
from omnidesk.outbound import OutboundReply, SendResult
from omnidesk.services import events
from omnidesk.services.pipeline import lock_message

_STATUSES = frozenset(str(s) for s in DeliveryStatus)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for transient provider failures."""

    max_attempts: int
    min_backoff_ms: int
    max_backoff_ms: int

    def backoff_ms(self, attempts: int) -> int:
        base = min(self.max_backoff_ms, self.min_backoff_ms * 2 ** max(0, attempts - 1))
        return int(base * random.uniform(0.8, 1.2))


def claim(
    session: Session, message_id: int, stale_after: timedelta
) -> tuple[OutboundReply, bool] | None:
    """Take a pending row for sending; None if another worker has it or it is done.

    Returns the reply and whether this is the resumption of an interrupted send (a row left in
    `sending` longer than `stale_after`), which the caller reconciles with the provider first.
    """
    message = lock_message(session, message_id)
    if message is None:
        return None
    now = utcnow()
    resumed = message.status == DeliveryStatus.SENDING and (
        message.updated_at is None or now - message.updated_at > stale_after
    )
    if message.status != DeliveryStatus.PENDING and not resumed:
        return None
    message.status = DeliveryStatus.SENDING
    message.attempts += 1
    message.updated_at = now
    session.add(message)
    return to_reply(message, last_inbound_at(session, message)), resumed


def last_inbound_at(session: Session, reply: Message) -> datetime | None:
    """When the recipient last wrote to this connector (opens the chat providers' reply window)."""
    stmt = (
        select(func.max(Message.received_at))
        .where(Message.direction == Direction.INBOUND, Message.connector_id == reply.connector_id)
        .where(Message.sender == reply.recipient, col(Message.automatic).is_(None))
    )
    return session.exec(stmt).first()


def to_reply(message: Message, last_inbound: datetime | None = None) -> OutboundReply:
    thread = message.thread or {}
    return OutboundReply(
        message_id=message.id,  # type: ignore[arg-type]
        request_id=message.request_id,
        to=message.recipient or "",
        subject=message.subject,
        text=message.text,
        html=message.html,
        attachments=tuple(Attachment.model_validate(a) for a in message.attachments),
        in_reply_to=thread.get("in_reply_to"),
        references=tuple(thread.get("references") or ()),
        automatic=message.author == "system",
        last_inbound_at=last_inbound,
    )


def mark_sent(session: Session, message_id: int, result: SendResult) -> None:
    message = lock_message(session, message_id)
    assert message is not None
    message.provider_message_id = result.provider_message_id
    status = DeliveryStatus(result.status) if result.status in _STATUSES else DeliveryStatus.SENT
    if status.rank > message.status.rank:
        message.status = status
    message.sent_at = message.updated_at = utcnow()
    message.error_code = message.error_reason = None
    session.add(message)
    if message.request_id and message.author != "system":
        request = session.get(Request, message.request_id)
        if request is not None and request.first_responded_at is None:
            request.first_responded_at = message.sent_at
            session.add(request)
    events.record(
        session,
        "replied",
        request_id=message.request_id,
        message_id=message.id,
        provider_message_id=result.provider_message_id,
        kind=message.kind,
        attempts=message.attempts,
    )


def mark_failed(session: Session, message_id: int, code: str | None, reason: str) -> None:
    message = lock_message(session, message_id)
    assert message is not None
    message.status = DeliveryStatus.FAILED
    message.error_code = code
    message.error_reason = reason
    message.updated_at = utcnow()
    session.add(message)
    events.record(
        session,
        "reply_failed",
        request_id=message.request_id,
        message_id=message.id,
        error_code=code,
        error_reason=reason,
        attempts=message.attempts,
    )


def defer(
    session: Session, message_id: int, code: str | None, reason: str, policy: RetryPolicy
) -> int | None:
    """A transient failure: back to pending with a retry time (returns the delay in ms), or
    failed once attempts run out (returns None)."""
    message = lock_message(session, message_id)
    assert message is not None
    if message.attempts >= policy.max_attempts:
        mark_failed(
            session, message_id, code, f"gave up after {message.attempts} attempts: {reason}"
        )
        return None
    delay_ms = policy.backoff_ms(message.attempts)
    message.status = DeliveryStatus.PENDING
    message.error_code = code
    message.error_reason = reason
    message.updated_at = utcnow()
    message.next_attempt_at = message.updated_at + timedelta(milliseconds=delay_ms)
    session.add(message)
    events.record(
        session,
        "reply_retry",
        request_id=message.request_id,
        message_id=message.id,
        error_code=code,
        error_reason=reason,
        attempts=message.attempts,
        retry_in_ms=delay_ms,
    )
    return delay_ms
