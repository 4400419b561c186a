"""Weibo replies: the reply API request, its window and length rules, its errors (protocols 3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from omnidesk.errors import PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply, SendResult

REPLY_PATH = "/2/messages/reply.json"
UID_PATH = "/2/account/get_uid.json"
# "The content should be less than 300 Chinese characters" (发送客服消息).
MAX_TEXT = 300
# System errors and rate limits: the same call may succeed later (protocols 3.4).
TRANSIENT_CODES = frozenset({10001, 10002, 10003, 10009, 10010, 10011, 10022, 10023, 10024})
TOKEN_REASONS = {
    21327: "the access token expired: an admin must set a new one",
    21332: "the access token is invalid: an admin must set a new one",
    21301: "Weibo refused the access token: an admin must set a new one",
    21314: "the access token was used up: an admin must set a new one",
    21315: "the access token expired: an admin must set a new one",
    21316: "the access token was revoked: an admin must set a new one",
    21317: "the access token was rejected: an admin must set a new one",
    21319: "the access token's authorisation was revoked: an admin must set a new one",
}
REASONS = {
    10014: "the Weibo app lacks the permission to send private messages",
    10016: "Weibo says a required parameter is missing (a bug in omnidesk)",
    10017: "Weibo refused a parameter (text too long or malformed)",
    20003: "the customer's Weibo account does not exist any more",
    # The codes below are our best guess (unconfirmed): the wiki documents the rules, not codes.
    20016: "Weibo allows no more replies to this customer now (outside the 48-hour window, "
    "or the one reply after an @mention was used); wait for the customer to write again",
    20603: "the customer unfollowed the account; Weibo allows no replies until they follow again",
}


def check_reply(reply: OutboundReply, now: datetime, window: timedelta) -> str:
    """The text to send, or PermanentSendError when Weibo would refuse it anyway."""
    last = reply.last_inbound_at
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        if now - last > window:
            hours = int(window.total_seconds() // 3600)
            raise PermanentSendError(
                "outside_window",
                f"Weibo only allows replies within {hours} hours of the customer's last message "
                f"(last one {last.astimezone(UTC):%Y-%m-%d %H:%M} UTC); "
                "ask the customer to write again or reach them on another channel",
            )
    text = "\n".join([reply.text.strip(), *(a.url for a in reply.attachments if a.url)]).strip()
    if not text:
        raise PermanentSendError("empty_reply", "the reply has no text to send")
    if len(text) >= MAX_TEXT:
        raise PermanentSendError(
            "text_too_long",
            f"Weibo private messages must be shorter than {MAX_TEXT} characters and this reply "
            f"has {len(text)}: shorten it or send it as several replies",
        )
    return text


def reply_form(receiver_id: str, text: str, access_token: str) -> dict[str, str]:
    """The form of POST /2/messages/reply.json.

    `data` is URL-encoded JSON, then form-encoded again as a field value: two levels, as the
    docs ask and the SDKs do (the wiki's curl sends one level; Weibo reads both).
    """
    payload = json.dumps({"text": text}, ensure_ascii=False, separators=(",", ":"))
    return {
        "access_token": access_token,
        "type": "text",
        "data": quote(payload, safe=""),
        "receiver_id": receiver_id,
        "save_sender_box": "1",
    }


def read_answer(status: int, body: bytes, reply: OutboundReply) -> SendResult:
    """The SendResult of a 2xx answer without an error code; raise the classified error else."""
    answer = _json(body)
    if not 200 <= status < 300 or answer is None or "error_code" in answer:
        raise classify_error(status, body)
    sent_id = answer.get("idstr") or answer.get("id")
    # The success body is (unconfirmed): without an id, the row's own id keeps the key unique.
    return SendResult(provider_message_id=str(sent_id or f"reply-{reply.message_id}"))


def classify_error(status: int | None, body: bytes) -> TransientError | PermanentSendError:
    """A TransientError or PermanentSendError for a failed Weibo API call."""
    answer = _json(body) or {}
    code = error_code(answer)
    message = str(answer.get("error") or "")
    if code is None:
        if status is None or status >= 500 or status == 429 or 200 <= status < 300:
            return TransientError(f"Weibo answered {status} without a readable error", None)
        return PermanentSendError(str(status), f"Weibo answered HTTP {status}")
    if code in TRANSIENT_CODES:
        return TransientError(f"Weibo error {code}: {message or 'try again later'}", str(code))
    if code in TOKEN_REASONS:
        return PermanentSendError(str(code), TOKEN_REASONS[code])
    reason = REASONS.get(code) or (f"Weibo refused the reply: {message}" if message else "")
    return PermanentSendError(str(code), reason or f"Weibo refused the reply (error {code})")


def error_code(answer: dict[str, Any]) -> int | None:
    """Weibo's `error_code`, a number or a string of digits."""
    value = answer.get("error_code")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
