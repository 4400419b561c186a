"""Stage 4, respond: queue the automatic acknowledgement of a new request as an outbound row.

A reply is a row before it is a provider call (durability contract §4): this stage only writes
the pending row; the send actor delivers it.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from omnidesk.config_file import DeskConfig
from omnidesk.models import DeliveryStatus, Direction, Identity, Message, Request
from omnidesk.services import events, templates
from omnidesk.services.ingest import is_opening_message
from omnidesk.services.pipeline import SEND, Task


def run(session: Session, message: Message, config: DeskConfig) -> list[Task]:
    if message.request_id is None or message.automatic:
        return []
    request = session.get(Request, message.request_id)
    if request is None or not is_opening_message(session, message):
        return []
    ident = session.get(Identity, message.identity_id) if message.identity_id else None
    if ident is not None and ident.opted_out:
        events.record(session, "acknowledgement_skipped", request_id=request.id, reason="opted_out")
        return []
    text = templates.render(
        "acknowledgement",
        request.language or config.desk.default_language,
        message.channel,
        {"request_id": request.id, "desk_name": _desk_name(config, request.language)},
        _template_dir(config),
    )
    reply = queue_reply(session, request, message, text, kind="acknowledgement", author="system")
    return [Task(SEND, reply.id)]  # type: ignore[arg-type]


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


def _desk_name(config: DeskConfig, language: str | None) -> str:
    return config.desk.name_en if language == "en" else config.desk.name


def _template_dir(config: DeskConfig) -> Path | None:
    return config.path.parent / "templates" if config.path else None
