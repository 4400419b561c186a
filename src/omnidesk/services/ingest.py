"""Stage 1, ingest: resolve the customer, then join the message to its request or open a new one."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from omnidesk.inbound import Sender
from omnidesk.models import (
    OPEN_STATUSES,
    Customer,
    Direction,
    Message,
    Request,
    RequestStatus,
    utcnow,
)
from omnidesk.services import chatbot, events, identity, surveys
from omnidesk.services.pipeline import Task

OPEN_REQUEST_WINDOW = timedelta(days=14)


def run(session: Session, message: Message) -> list[Task]:
    """Attach `message` to a request; automatic mail joins only a thread it belongs to."""
    sender = Sender(
        kind=message.sender_kind or "unknown",
        address=message.sender or "unknown",
        display_name=message.sender_name,
    )
    customer, ident = identity.resolve(session, sender)
    # One customer's messages are ingested one at a time: two first messages at the same instant
    # (two API processes, two workers) must find one open request, not open two.
    lock_customer(session, customer.id)  # type: ignore[arg-type]
    message.customer_id = customer.id
    message.identity_id = ident.id
    if message.automatic in ("opt_out", "opt_in"):
        ident.opted_out = message.automatic == "opt_out"
        session.add(ident)
        events.record(
            session,
            message.automatic,
            message_id=message.id,
            customer_id=customer.id,
            identity=f"{ident.kind}:{ident.address}",
        )
    if surveys.answer_from_message(session, message, ident):
        return []  # a rating of the survey it was sent: joined to the surveyed request
    request, how = find_request(session, message, customer.id)  # type: ignore[arg-type]
    if request is None and message.automatic:
        events.record(
            session,
            "automatic_ignored",
            message_id=message.id,
            customer_id=customer.id,
            reason=message.automatic,
        )
        return []
    if request is None:
        request = _open(session, message, customer.id)  # type: ignore[arg-type]
        how = "new"
    _attach(session, request, message, how)
    return []


def find_request(
    session: Session, message: Message, customer_id: int
) -> tuple[Request | None, str]:
    """The request this message continues: its thread first, then its tag, then an open request."""
    thread = message.thread or {}
    ids = [i for i in [thread.get("in_reply_to"), *thread.get("references", [])] if i]
    if ids:
        stmt = (
            select(Message.request_id)
            .where(col(Message.provider_message_id).in_(ids), Message.channel == message.channel)
            .where(col(Message.request_id).is_not(None))
            .order_by(col(Message.id).desc())
        )
        request_id = session.exec(stmt).first()
        if request_id is not None:
            return session.get(Request, request_id), "thread"
    tag = thread.get("subject_tag")
    if tag:
        tagged = session.get(Request, int(tag))
        if tagged is not None and tagged.customer_id == customer_id:
            return tagged, "subject_tag"
    since = utcnow() - OPEN_REQUEST_WINDOW
    stmt_open = (
        select(Request)
        .where(Request.customer_id == customer_id, Request.channel == message.channel)
        .where(col(Request.status).in_(OPEN_STATUSES), col(Request.updated_at) >= since)
        .order_by(col(Request.id).desc())
    )
    return session.exec(stmt_open).first(), "open_request"


def lock_customer(session: Session, customer_id: int) -> None:
    """Hold the customer's row until commit (PostgreSQL; SQLite has one writer at a time)."""
    session.exec(select(Customer.id).where(Customer.id == customer_id).with_for_update()).first()


def is_opening_message(session: Session, message: Message) -> bool:
    """True when this message opened its request (the one the acknowledgement answers)."""
    request = session.get(Request, message.request_id) if message.request_id else None
    if request is not None and request.opening_message_id is not None:
        return request.opening_message_id == message.id
    stmt = (  # requests opened before the opening message was recorded
        select(Message.id)
        .where(Message.request_id == message.request_id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id))
    )
    return session.exec(stmt).first() == message.id


def _open(session: Session, message: Message, customer_id: int) -> Request:
    subject = message.subject or _first_line(message.text)
    request = Request(
        customer_id=customer_id,
        channel=message.channel,
        connector_id=message.connector_id,
        subject=subject,
        status=RequestStatus.NEW,
        last_message_at=message.received_at or utcnow(),
        bot_active=chatbot.is_bot_channel(message.channel),
        opening_message_id=message.id,
    )
    session.add(request)
    session.flush()
    events.record(
        session,
        "request_opened",
        request_id=request.id,
        message_id=message.id,
        customer_id=customer_id,
        channel=message.channel,
        connector_id=message.connector_id,
    )
    return request


def _attach(session: Session, request: Request, message: Message, how: str) -> None:
    message.request_id = request.id
    session.add(message)
    if how != "new":
        if not message.automatic and not request.status.is_open:
            request.status = RequestStatus.OPEN
            events.record(session, "reopened", request_id=request.id, message_id=message.id)
        elif not message.automatic and request.status == RequestStatus.PENDING:
            request.status = RequestStatus.OPEN
        events.record(
            session, "message_attached", request_id=request.id, message_id=message.id, how=how
        )
    request.last_message_at = message.received_at or utcnow()
    request.updated_at = utcnow()
    session.add(request)


def _first_line(text: str, limit: int = 80) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
