"""Build customer-service message calls and map WeChat's errcodes (protocols 2.5-2.7). No I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from omnidesk.errors import PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply

CUSTOM_SEND_PATH = "/cgi-bin/message/custom/send"
STABLE_TOKEN_PATH = "/cgi-bin/stable_token"  # noqa: S105 - a path, not a secret
REPLY_WINDOW = timedelta(hours=48)
# Answered by refreshing the access token once and retrying once (see token.py).
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TRANSIENT_CODES = frozenset({-1, 45009, 45011})

OUTSIDE_WINDOW = (
    "WeChat only accepts replies within 48 hours of the customer's last message, and none after "
    "they unfollowed the account; this reply was not sent. It can go out once the customer "
    "writes again."
)
REASONS = {
    45015: OUTSIDE_WINDOW,
    45047: (
        "WeChat's reply quota for this customer is used up (5 messages after each customer "
        "message); it is restored when the customer writes again."
    ),
    40003: "WeChat does not know this openid for this Official Account.",
    43004: "The customer does not follow the Official Account, so WeChat refuses the message.",
    40008: "WeChat refused the message type (a bug in omnidesk).",
    44004: "WeChat refused an empty message.",
    45002: "WeChat refused the message as too long; shorten it and send again.",
    47001: "WeChat could not read the request body (a bug in omnidesk).",
    41001: "omnidesk sent no access token (a bug in omnidesk).",
    48001: "This Official Account is not authorised to send customer-service messages.",
}
TRANSIENT_REASONS = {
    -1: "WeChat is busy (-1); will retry.",
    45009: "WeChat's daily API quota for this account is used up (45009); will retry later.",
    45011: "WeChat asks us to call less often (45011); will retry with backoff.",
}
TOKEN_REASONS = {
    40001: "WeChat refused the app_secret (40001); an admin must correct the connector.",
    40013: "WeChat does not know the app_id (40013); an admin must correct the connector.",
    40125: "WeChat refused the app_secret as invalid (40125); an admin must correct the connector.",
    40164: "This server's IP address is not on the account's API whitelist (40164).",
    48001: "This Official Account is not authorised to fetch access tokens (48001).",
    89503: "WeChat holds this call for the admin's confirmation (risky IP, 89503).",
}


def custom_send_url(base_url: str, access_token: str) -> str:
    """`{api_base_url}/cgi-bin/message/custom/send?access_token=…` (the token goes in the query)."""
    return f"{base_url.rstrip('/')}{CUSTOM_SEND_PATH}?access_token={access_token}"


def text_body(reply: OutboundReply) -> bytes:
    """The custom/send JSON of a text reply: UTF-8, not ASCII-escaped (2.6).

    Customer-service text messages carry no files; attachment links are added to the text.
    """
    links = [a.url for a in reply.attachments if a.url]
    content = "\n".join([reply.text, *links]) if links else reply.text
    message = {"touser": reply.to, "msgtype": "text", "text": {"content": content}}
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def refuse_outside_window(last_inbound_at: datetime | None, now: datetime) -> None:
    """Raise 45015 at once for a reply more than 48 h after the customer last wrote (2.6).

    Unknown (None) is left to WeChat, whose answer is authoritative.
    """
    if last_inbound_at is None:
        return
    if last_inbound_at.tzinfo is None:
        last_inbound_at = last_inbound_at.replace(tzinfo=UTC)
    if now - last_inbound_at > REPLY_WINDOW:
        raise PermanentSendError("45015", OUTSIDE_WINDOW)


def read_answer(status: int, content: bytes) -> dict[str, Any]:
    """The JSON object WeChat answered; WeChat answers 200 even for errors (2.6)."""
    if status != 200:
        raise TransientError(f"WeChat answered HTTP {status}", str(status))
    try:
        answer = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TransientError("WeChat answered something that is not JSON") from exc
    if not isinstance(answer, dict):
        raise TransientError("WeChat answered JSON that is not an object")
    return answer


def errcode_of(answer: dict[str, Any]) -> int:
    """WeChat's errcode (0 = success; success answers may omit it, token answers do)."""
    try:
        return int(answer.get("errcode", 0) or 0)
    except (TypeError, ValueError):
        return -1


def classify_error(errcode: int, errmsg: str) -> TransientError | PermanentSendError:
    """A custom/send failure as transient (retry with backoff) or permanent (reason for agent)."""
    if errcode in TRANSIENT_CODES:
        return TransientError(TRANSIENT_REASONS[errcode], str(errcode))
    if errcode in TOKEN_ERRORS:
        reason = f"WeChat rejected a freshly fetched access token ({errcode}: {errmsg})"
        return TransientError(reason, str(errcode))
    return PermanentSendError(str(errcode), REASONS.get(errcode) or f"WeChat refused: {errmsg}")


def classify_token_error(errcode: int, errmsg: str) -> TransientError | PermanentSendError:
    """A failed access-token fetch: bad credentials and whitelisting need an admin."""
    if errcode in TOKEN_REASONS:
        return PermanentSendError(str(errcode), TOKEN_REASONS[errcode])
    if errcode in TRANSIENT_CODES:
        return TransientError(TRANSIENT_REASONS[errcode], str(errcode))
    return TransientError(f"WeChat refused an access token: {errcode} {errmsg}", str(errcode))
