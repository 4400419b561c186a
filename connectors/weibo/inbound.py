"""Verify and parse what Weibo pushes: signed URL checks and JSON private messages. No I/O."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from omnidesk.errors import BadPayload, SignatureError
from omnidesk.inbound import Attachment, InboundMessage, Sender

# Pushes without text carry Weibo's default wording (protocols 3.2).
DEFAULT_TEXT = {
    "position": "发送了一个位置",
    "voice": "发了一个语音消息",
    "image": "发了一张图片",
    "event": "事件消息",
}
# Media of image/voice pushes: the receiver reads them by `tovfid`. The download endpoint and
# the formats are (unconfirmed); the URL names the file, fetching it needs the access token.
MEDIA_URL = "https://upload.api.weibo.com/2/mss/msget?fid={fid}"
MEDIA_TYPE = {"image": "image/jpeg", "voice": "audio/amr"}
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, 1)}


def signature(app_secret: str, timestamp: str, nonce: str) -> str:
    """sha1 of the sorted [secret, timestamp, nonce], concatenated (protocols 3.1)."""
    joined = "".join(sorted([app_secret, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324 - Weibo's algorithm


def verify(app_secret: str, query: dict[str, str], *, now: float, max_skew_seconds: float) -> None:
    """Check `signature` over timestamp and nonce, and refuse a timestamp outside the skew."""
    sig, timestamp, nonce = (query.get(k) or "" for k in ("signature", "timestamp", "nonce"))
    if not (sig and timestamp and nonce):
        raise SignatureError("missing signature, timestamp or nonce")
    expected = signature(app_secret, timestamp, nonce).encode()
    if not hmac.compare_digest(expected, sig.lower().encode("utf-8", "replace")):
        raise SignatureError("Weibo signature does not match")
    if not timestamp.isdigit():
        raise SignatureError("timestamp is not a number")
    # Weibo's timestamps are milliseconds, unlike WeChat's seconds.
    if abs(now - int(timestamp) / 1000) > max_skew_seconds:
        raise SignatureError("stale or future timestamp (replay?)")


def parse(raw: bytes, connector: str) -> InboundMessage:
    """A JSON push as an InboundMessage; events and unknown types are automatic (no reply)."""
    push = _load(raw)
    kind = str(push.get("type") or "")
    sender, receiver = _uid(push, "sender_id"), _uid(push, "receiver_id")
    sent_at = parse_created_at(push.get("created_at"))
    data = _data(push.get("data"))
    text = str(push.get("text") or "") or DEFAULT_TEXT.get(kind, "")
    text, attachments, automatic = _content(kind, text, data)
    return InboundMessage(
        channel="weibo",
        connector=connector,
        provider_message_id=dedupe_key(receiver, sender, sent_at, raw),
        sender=Sender(kind="weibo", address=sender),
        recipient=receiver,
        sent_at=sent_at,
        text=text,
        attachments=attachments,
        automatic=automatic,
    )


def dedupe_key(receiver: str, sender: str, sent_at: datetime, raw: bytes) -> str:
    """Weibo has no message id: retries are byte-identical, two messages in a second are not."""
    digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:16]
    return f"{receiver}:{sender}:{int(sent_at.timestamp())}:{digest}"


def parse_created_at(value: Any) -> datetime:
    """`Mon Jul 16 18:09:20 +0800 2012`, read without the locale-dependent %a/%b."""
    parts = str(value or "").split()
    if len(parts) != 6 or parts[1] not in MONTHS:
        raise BadPayload(f"created_at is not in Weibo's date format: {value!r}")
    _weekday, month, day, clock, offset, year = parts
    try:
        return datetime.strptime(
            f"{year} {MONTHS[month]} {day} {clock} {offset}", "%Y %m %d %H:%M:%S %z"
        )
    except ValueError as exc:
        raise BadPayload(f"created_at is not a valid date: {value!r}") from exc


def _load(raw: bytes) -> dict[str, Any]:
    if raw.lstrip().startswith(b"<"):
        raise BadPayload("XML pushes are not supported: choose the JSON format in developer mode")
    try:
        push = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadPayload(f"the push is not UTF-8 JSON: {exc}") from exc
    if not isinstance(push, dict):
        raise BadPayload("the push is not a JSON object")
    return push


def _uid(push: dict[str, Any], key: str) -> str:
    """An int64 uid, sent as a JSON number (or, in some samples, a string of digits)."""
    value = push.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return str(int(value))
    raise BadPayload(f"{key} is not a Weibo uid: {value!r}")


def _data(value: Any) -> dict[str, Any]:
    """`data` is an object in the examples and "string" in the tables: accept both."""
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def _content(
    kind: str, text: str, data: dict[str, Any]
) -> tuple[str, tuple[Attachment, ...], str | None]:
    """(text, attachments, automatic) for one push type."""
    # An @mention is a customer's question; whether it comes as its own type or as an event
    # subtype is (unconfirmed), so both are read as one.
    if kind in ("text", "mention") or (kind == "event" and data.get("subtype") == "mention"):
        return text, (), None
    if kind == "position":
        where = f"[位置 location: {data.get('latitude', '?')}, {data.get('longitude', '?')}]"
        return f"{text}\n{where}", (), None
    if kind in MEDIA_TYPE:
        fid = str(data.get("tovfid") or data.get("vfid") or "")
        media = Attachment(
            filename=f"weibo-{kind}-{fid}" if fid else None,
            content_type=MEDIA_TYPE[kind],
            url=MEDIA_URL.format(fid=fid) if fid else None,
        )
        return text, (media,), None
    if kind == "event":
        subtype = str(data.get("subtype") or "unknown")
        key = f" ({data['key']})" if data.get("key") else ""
        return f"{text}{key}", (), f"weibo_event:{subtype}"
    # Unknown types are to be ignored (protocols 3.2): kept for the record, never answered.
    return text, (), f"weibo_unknown:{kind or 'none'}"
