"""The widget's protocol: client frames read and checked, server frames built (pure).

Client → server: message, resume, typing, read, ping. Server → client: ack, message, typing,
read, state, error, pong, ping. `seq` is the message row's id: a visitor's history is ordered by
it, so "every message with seq > after" is exactly what a reconnecting widget missed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnidesk.inbound import Attachment, InboundMessage, Sender
from omnidesk.services.chat import ChatLine, ChatState

CHANNEL = "webchat"
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
HANDOFF_LABELS = {"zh": "转人工", "en": "Talk to a person"}
BOT_KINDS_WITH_OFFER = frozenset({"bot_answer", "bot_unsure"})
_CJK = re.compile(r"[\u3400-\u9fff]")


class FrameError(Exception):
    """A client frame the server refuses: `code` is stable snake_case for the widget."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id

    def frame(self) -> dict[str, Any]:
        return error(self.code, self.message, self.client_id)


@dataclass(frozen=True)
class VisitorMessage:
    """A checked `message` frame."""

    client_id: str
    text: str
    attachment_id: str | None


def read_message(frame: dict[str, Any], max_chars: int) -> VisitorMessage:
    """Check a `message` frame: a client id, text within the cap, maybe an attachment."""
    client_id = frame.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise FrameError("bad_client_id", "client_id must be 8-64 letters, digits, - or _")
    text = frame.get("text") if frame.get("text") is not None else ""
    attachment_id = frame.get("attachment_id")
    if not isinstance(text, str) or not (attachment_id is None or isinstance(attachment_id, str)):
        raise FrameError("bad_frame", "text and attachment_id must be strings", client_id)
    if len(text) > max_chars:
        raise FrameError("too_long", f"a message has at most {max_chars} characters", client_id)
    if not text.strip() and not attachment_id:
        raise FrameError("empty", "write something or attach an image", client_id)
    return VisitorMessage(client_id, text, attachment_id)


def provider_id(address: str, client_id: str) -> str:
    """The dedupe key: the browser's id for the message, scoped to its visitor."""
    return f"{address}/{client_id}"


def client_id_of(provider_message_id: str | None) -> str | None:
    return provider_message_id.rpartition("/")[2] if provider_message_id else None


def inbound(
    connector: str,
    address: str,
    message: VisitorMessage,
    attachments: tuple[Attachment, ...],
    context: dict[str, str],
    display_name: str | None = None,
) -> InboundMessage:
    """The visitor's message as the pipeline sees it; text stays text (no html, ever)."""
    return InboundMessage(
        channel=CHANNEL,
        connector=connector,
        provider_message_id=provider_id(address, message.client_id),
        sender=Sender(kind=CHANNEL, address=address, display_name=display_name),
        recipient=connector,
        text=message.text,
        attachments=attachments,
        context=context,
    )


def ack(client_id: str, message_id: int) -> dict[str, Any]:
    return {"type": "ack", "client_id": client_id, "id": message_id, "seq": message_id}


def message(line: ChatLine, file_url: Callable[[dict[str, Any]], str | None]) -> dict[str, Any]:
    """A message of the chat as the widget shows it (`seq` = `id`)."""
    sender = "visitor" if line.inbound else "bot" if line.author == "system" else "agent"
    attachments = []
    for meta in line.attachments:
        url = file_url(meta)
        if url is not None:
            attachments.append(
                {"url": url, "content_type": meta.get("content_type"), "name": meta.get("filename")}
            )
    actions = []
    if sender == "bot" and line.kind in BOT_KINDS_WITH_OFFER:
        label = HANDOFF_LABELS["zh" if _CJK.search(line.text) else "en"]
        actions.append({"type": "handoff", "label": label})
    return {
        "type": "message",
        "id": line.id,
        "seq": line.id,
        "from": sender,
        "text": line.text,
        "sent_at": _iso(line.at),
        "client_id": client_id_of(line.provider_message_id) if line.inbound else None,
        "agent_name": line.author_name if sender == "agent" else None,
        "attachments": attachments,
        "actions": actions,
    }


def state(found: ChatState) -> dict[str, Any]:
    return {"type": "state", **state_fields(found)}


def state_fields(found: ChatState) -> dict[str, Any]:
    """The chat's state as the widget reads it (the state frame and the session's answer)."""
    return {
        "state": found.state,
        "eta": _iso(found.eta) if found.eta else None,
        "eta_text": found.eta_text,
        "time_zone": found.time_zone,
    }


def error(code: str, text: str, client_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": text, "client_id": client_id, **extra}


def _iso(moment: datetime) -> str:
    return moment.isoformat()
