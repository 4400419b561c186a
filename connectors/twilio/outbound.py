"""Build Twilio Messages API calls; map its errors to transient or permanent (protocols 1.6)."""

from __future__ import annotations

from typing import Any

from omnidesk.errors import PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply

# Codes that say "try again later" although Twilio answered 4xx.
TRANSIENT_CODES = frozenset({20429, 30001, 30003, 30008})
REASONS = {
    20003: "Twilio refused the account SID or auth token",
    21211: "the customer's number is not a valid phone number",
    21408: "sending to this region is disabled in Twilio's Geo Permissions",
    21602: "the message has no body",
    21606: "the from_number is not an SMS-capable number of this Twilio account",
    21610: "the customer replied STOP; Twilio blocks messages until they send START",
    21614: "the customer's number is not a mobile number",
    21617: "the message is longer than 1,600 characters",
}
MAX_BODY = 1600


def message_params(
    reply: OutboundReply,
    from_number: str | None,
    service_sid: str | None,
    status_callback: str | None,
) -> dict[str, Any]:
    """Keyword arguments for `client.messages.create`."""
    params: dict[str, Any] = {"to": reply.to, "body": reply.text[:MAX_BODY]}
    if service_sid:
        params["messaging_service_sid"] = service_sid
    else:
        params["from_"] = from_number
    media = [a.url for a in reply.attachments if a.url]
    if media:
        params["media_url"] = media
    if status_callback:
        params["status_callback"] = status_callback
    return params


def classify_error(status: int | None, code: int | None, message: str) -> Exception:
    """A TransientError or PermanentSendError for a failed Messages API call."""
    if status == 429 or code in TRANSIENT_CODES or status is None or status >= 500:
        return TransientError(message or f"Twilio answered {status}", str(code) if code else None)
    reason = REASONS.get(code or 0, message or f"Twilio answered {status}")
    return PermanentSendError(str(code) if code else str(status), reason)
