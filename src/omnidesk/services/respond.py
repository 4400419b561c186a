"""Stage 4, respond: the automatic reply to a customer's message, queued as an outbound row.

A new request gets one message: an automatic answer (order status, knowledge base) when one is
sure enough, always with the request number and how to reach a person, or else the
acknowledgement, which says when a human will answer (business hours). On a follow-up,
"人工"/"agent" hands the request to a person, and a confirmation after an automatic answer
resolves it. A reply is a row before it is a provider call (durability contract §4).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import (
    DeliveryStatus,
    Direction,
    Event,
    Identity,
    Message,
    Request,
    RequestStatus,
    utcnow,
)
from omnidesk.services import chatbot, events, mail, sla, surveys, templates
from omnidesk.services.answers import (
    AnswerSource,
    Lookup,
    asks_for_human,
    confirms_solved,
)
from omnidesk.services.ingest import is_opening_message
from omnidesk.services.pipeline import SEND, Task

MAX_AUTO_REPLY_AGE = timedelta(days=3)


def lookups(
    session: Session, message: Message, config: DeskConfig, auto_reply_limit: int | None = None
) -> list[Lookup]:
    """The answerer questions `run` will ask for this message, in order (the first that finds
    something wins). The respond actor asks them with no transaction open (order-system HTTP
    calls, knowledge retrieval), then runs `run` with the answers (`PrefetchedAnswers`) in one
    short write transaction (durability contract §6)."""
    if message.request_id is None or message.automatic:
        return []
    request = session.get(Request, message.request_id)
    if request is None or _why_not(session, message, auto_reply_limit):
        return []
    if request.bot_active:
        return chatbot.lookups(session, request, message)
    if not is_opening_message(session, message):
        return []
    language = request.language or config.desk.default_language
    short = message.channel in templates.SHORT_CHANNELS
    return [Lookup(_question(message), request.category, language, short)]


def _question(message: Message) -> str:
    return f"{message.subject or ''}\n{message.text}"


def run(
    session: Session,
    message: Message,
    config: DeskConfig,
    answerer: AnswerSource,
    auto_reply_limit: int | None = None,
) -> list[Task]:
    if message.request_id is None or message.automatic:
        return []
    request = session.get(Request, message.request_id)
    if request is None:
        return []
    reason = _why_not(session, message, auto_reply_limit)
    if reason:
        events.record(session, "auto_reply_skipped", request_id=request.id, reason=reason)
        return []
    if request.bot_active:  # live chat before hand-off: the bot answers every message
        text, kind = chatbot.answer(session, request, message, config, answerer)
        reply = queue_reply(session, request, message, text, kind=kind, author="system")
        return [Task(SEND, reply.id)]  # type: ignore[arg-type]
    if is_opening_message(session, message):
        text = _first_reply(session, request, message, config, answerer)
        kind = "answer" if _answered(session, request) else "acknowledgement"
    else:
        text, kind = _follow_up(session, request, message, config)
    if text is None:
        return surveys.on_resolved(session, request, config) if kind == "resolved" else []
    reply = queue_reply(session, request, message, text, kind=kind, author="system")
    return [Task(SEND, reply.id)]  # type: ignore[arg-type]


def _why_not(session: Session, message: Message, auto_reply_limit: int | None) -> str | None:
    """Why no automatic reply may go to this message's sender (None: it may)."""
    ident = session.get(Identity, message.identity_id) if message.identity_id else None
    if ident is not None and ident.opted_out:
        return "opted_out"
    received = message.received_at or message.created_at
    if received is not None and utcnow() - received > MAX_AUTO_REPLY_AGE:
        return "too_old"  # e.g. mail backfilled by `omnidesk email import`
    if auto_reply_limit is not None and not mail.auto_reply_allowed(
        session, message, auto_reply_limit
    ):
        return "rate_limited"
    return None


def _first_reply(
    session: Session,
    request: Request,
    message: Message,
    config: DeskConfig,
    answerer: AnswerSource,
) -> str:
    language = request.language or config.desk.default_language
    short = message.channel in templates.SHORT_CHANNELS
    found = answerer.answer(_question(message), request.category, language, short)
    found = chatbot.record_lookup(session, request, message, found)
    if found is not None:
        footer = templates.phrase(
            "answer_footer", language, {"request_id": request.id}, config.templates
        )
        return f"{found.text}{'' if language == 'zh' else ' '}{footer}"
    return templates.render(
        "acknowledgement",
        language,
        message.channel,
        _ack_values(session, request, config),
        _template_dir(config),
        config.templates,
    )


def _answered(session: Session, request: Request) -> bool:
    stmt = select(Event.id).where(Event.request_id == request.id, Event.kind == "auto_answered")
    return session.exec(stmt).first() is not None


def _follow_up(
    session: Session, request: Request, message: Message, config: DeskConfig
) -> tuple[str | None, str]:
    language = request.language or config.desk.default_language
    if asks_for_human(message.text):
        events.record(session, "human_requested", request_id=request.id, message_id=message.id)
        values = _ack_values(session, request, config)
        text = templates.phrase("human_requested", language, values, config.templates)
        return text, "acknowledgement"
    if (
        _answered(session, request)
        and request.first_responded_at is None
        and confirms_solved(message.text, language)
    ):
        request.status = RequestStatus.RESOLVED
        request.resolved_at = request.updated_at = utcnow()
        session.add(request)
        events.record(
            session,
            "resolved",
            request_id=request.id,
            actor="customer",
            reason="the customer confirmed the automatic answer solved it",
        )
        return None, "resolved"
    return None, ""


def _ack_values(session: Session, request: Request, config: DeskConfig) -> dict[str, object]:
    language = request.language if request.language in ("zh", "en") else "zh"
    hours = sla.hours_of(session, config, request.team)
    now = utcnow()
    overrides = config.templates
    when = (
        templates.phrase("when_open", language, {}, overrides)
        if hours.is_open(now)
        else templates.phrase(
            "when_closed",
            language,
            {"next_opening": hours.describe_next_opening(now, language)},
            overrides,
        )
    )
    complaint = (
        templates.phrase(
            "complaint_note", language, {"complaint_ref": request.complaint_ref}, overrides
        )
        if request.complaint_ref
        else ""
    )
    return {
        "request_id": request.id,
        "desk_name": config.desk.name_en if language == "en" else config.desk.name,
        "when": when,
        "complaint": complaint,
    }


def queue_reply(
    session: Session, request: Request, to_message: Message, text: str, *, kind: str, author: str
) -> Message:
    """Write a pending outbound message answering `to_message` through the same connector."""
    reply = Message(
        connector_id=to_message.connector_id,
        channel=to_message.channel,
        direction=Direction.OUTBOUND,
        kind=kind,
        author=author,
        request_id=request.id,
        customer_id=request.customer_id,
        identity_id=to_message.identity_id,
        recipient=to_message.sender,
        sender=to_message.recipient,
        subject=request.subject,
        text=text,
        thread={
            "in_reply_to": to_message.provider_message_id,
            "references": (to_message.thread or {}).get("references", []),
        },
        status=DeliveryStatus.PENDING,
    )
    session.add(reply)
    session.flush()
    events.record(
        session,
        "reply_queued",
        request_id=request.id,
        message_id=reply.id,
        kind=kind,
        author=author,
        in_reply_to=to_message.id,
    )
    return reply


def last_inbound(session: Session, request_id: int) -> Message | None:
    stmt = (
        select(Message)
        .where(Message.request_id == request_id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id).desc())
    )
    return session.exec(stmt).first()


def _template_dir(config: DeskConfig) -> Path | None:
    return config.path.parent / "templates" if config.path else None
