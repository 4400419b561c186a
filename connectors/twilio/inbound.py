"""Verify and parse what Twilio posts: inbound SMS/MMS and message status callbacks. No I/O."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from omnidesk.errors import BadPayload, SignatureError
from omnidesk.inbound import Attachment, InboundMessage, Sender

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})

# Twilio's message statuses → ours (canceled is terminal; queued/accepted never come as callbacks).
STATUS_MAP = {
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def verify(auth_token: str, url: str, params: dict[str, str], signature: str | None) -> None:
    """Check X-Twilio-Signature over the public URL and the form parameters (protocols 1.2)."""
    if not signature:
        raise SignatureError("missing X-Twilio-Signature")
    # RequestValidator compares in constant time and tries the URL with and without the port.
    if not RequestValidator(auth_token).validate(url, params, signature):
        raise SignatureError("X-Twilio-Signature does not match")


def check_account(params: dict[str, str], account_sid: str) -> None:
    if params.get("AccountSid") != account_sid:
        raise SignatureError("AccountSid is not this connector's account")


def keyword_kind(body: str) -> str | None:
    """Twilio's opt-out/opt-in/help keywords (protocols 1.8): recorded, never auto-answered."""
    word = body.strip().upper()
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None


def parse_sms(params: dict[str, str], connector: str) -> InboundMessage:
    """An inbound SMS/MMS webhook as an InboundMessage (MessageSid is the dedupe key)."""
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid")
    sender = params.get("From")
    if not sid or not sender:
        raise BadPayload("MessageSid and From are required")
    body = params.get("Body", "")
    return InboundMessage(
        channel="twilio",
        connector=connector,
        provider_message_id=sid,
        sender=Sender(kind="phone", address=sender.removeprefix("whatsapp:")),
        recipient=params.get("To"),
        text=body,
        attachments=tuple(_media(params)),
        automatic=keyword_kind(body),
    )


def _media(params: dict[str, str]) -> list[Attachment]:
    try:
        count = int(params.get("NumMedia", "0") or 0)
    except ValueError as exc:
        raise BadPayload("NumMedia is not a number") from exc
    media = []
    for n in range(min(count, 10)):
        url = params.get(f"MediaUrl{n}")
        if url:
            media.append(
                Attachment(
                    url=url,
                    content_type=params.get(f"MediaContentType{n}", "application/octet-stream"),
                )
            )
    return media


def parse_status(params: dict[str, str]) -> tuple[str, str, str | None] | None:
    """(MessageSid, our status, error code) of a status callback; None for statuses we ignore."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = STATUS_MAP.get(params.get("MessageStatus") or params.get("SmsStatus") or "")
    if not sid:
        raise BadPayload("MessageSid is required")
    if status is None:
        return None
    return sid, status, params.get("ErrorCode") or None
