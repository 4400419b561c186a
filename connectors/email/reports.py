"""Machine-sent mail: automatic-mail reasons (RFC 3834), bounces (RFC 3464) and read receipts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message

from connectors.email.mime import RawHeaders, decode_bytes
from connectors.email.threading import message_ids

_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_NOREPLY = re.compile(r"^(?:no-?reply|do-?not-?reply)", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:auto\s*:|automatic reply|auto-?reply|auto reply|out of office|autosvar"
    r"|自动回复|自动答复|自動回覆)",
    re.IGNORECASE,
)
_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_FALSE = frozenset({"", "no", "false", "0"})
# Non-RFC bounces (QQ, NetEase, older Exchange): the facts are only in the prose.
# Linear on purpose: [^\S\n]* rather than \s* after ^ (from every line start of a run of blank
# lines, \s* would scan the rest of the run); addresses at most as long as RFC 5321 allows
# (otherwise every "To:" of a long run of them scans the rest of the run for an "@").
_QUOTED_ID = re.compile(r"^[^\S\n]*Message-ID\s*[:：]\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -].*")
_RECIPIENT = re.compile(
    r"(?:收件人|收信人|Recipient|Original-Recipient|To)\s*[:：]\s*(?:rfc822;\s*)?<?"
    r"([^\s<>;,]{1,64}@[^\s<>;,]{1,255})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Bounce:
    """What a delivery report says about one of our messages (RFC 3464, or a mailer's prose)."""

    action: str | None
    status: str | None
    diagnostic: str | None
    final_recipient: str | None
    original_message_id: str | None


def automatic_reason(headers: RawHeaders, address: str, subject: str | None) -> str | None:
    """Say why a mail looks machine-sent (protocols 4.3), as a short snake_case reason, or None."""
    auto_submitted = (headers.raw("auto-submitted") or "no").split(";")[0].strip().lower()
    precedence = (headers.raw("precedence") or "").strip().lower()
    local = address.partition("@")[0]
    checks = (
        (auto_submitted != "no", "auto_submitted"),
        ((headers.raw("return-path") or "").replace(" ", "") == "<>", "null_return_path"),
        (_flag(headers, "x-autoreply") or _flag(headers, "x-autorespond"), "x_autoreply"),
        (_flag(headers, "x-auto-response-suppress"), "x_auto_response_suppress"),
        (precedence in _PRECEDENCE, f"precedence_{precedence}"),
        (bool(headers.raw("list-id") or headers.raw("list-unsubscribe")), "list_mail"),
        (is_daemon(address), "mailer_daemon"),
        (bool(_NOREPLY.match(local)), "noreply_sender"),
        (bool(_AUTO_SUBJECT.match(subject or "")), "auto_reply_subject"),
    )
    return next((reason for hit, reason in checks if hit), None)


def is_daemon(address: str) -> bool:
    """True for mailer-daemon and postmaster senders, who send bounces."""
    return address.partition("@")[0] in _DAEMONS


def _flag(headers: RawHeaders, name: str) -> bool:
    value = headers.raw(name)
    return value is not None and value.strip().lower() not in _FALSE


def report_type(msg: Message) -> str | None:
    """The report-type of a multipart/report anywhere in the message, or None."""
    for part in msg.walk():
        if part.get_content_type() == "multipart/report":
            return str(part.get_param("report-type") or "").lower() or None
    return None


def delivery_status(msg: Message) -> Bounce | None:
    """Read an RFC 3464 delivery-status report: the failed (or first) recipient, and our id."""
    kind = "message/delivery-status"
    status = next((part for part in msg.walk() if part.get_content_type() == kind), None)
    if status is None:
        return None
    fields = _recipient_fields(status)
    return Bounce(
        action=(fields.raw("action") or "").lower() or None,
        status=_first(_STATUS.findall(fields.raw("status") or "")),
        diagnostic=_after_type(fields.raw("diagnostic-code")),
        final_recipient=_lower(_after_type(fields.raw("final-recipient"))),
        original_message_id=original_message_id(msg),
    )


def prose_bounce(msg: Message, headers: RawHeaders, text: str) -> Bounce | None:
    """Recognise a mailer-daemon bounce without a report part from the facts in its text."""
    quoted = original_message_id(msg) or _first(
        found for value in _QUOTED_ID.findall(text) for found in message_ids(value)
    )
    status = _first(_STATUS.findall(text))
    reply = _SMTP_REPLY.search(text)
    if not (quoted or status or reply):
        return None
    failed = (headers.raw("x-failed-recipients") or "").split(",")[0].strip()
    recipient = failed or _first(_RECIPIENT.findall(text))
    return Bounce(
        action="delayed" if (status or "").startswith("4") else "failed",
        status=status,
        diagnostic=reply.group(0).strip().rstrip(")）") if reply else None,
        final_recipient=_lower(recipient),
        original_message_id=quoted,
    )


def original_message_id(msg: Message) -> str | None:
    """The Message-ID of the returned original (a message/rfc822 or text/rfc822-headers part)."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and part.is_multipart():
            inner = part.get_payload(0)
        elif kind == "text/rfc822-headers":
            inner = message_from_bytes(_bytes_of(part), policy=policy.default)
        else:
            continue
        if not isinstance(inner, Message):
            continue
        found = message_ids(RawHeaders(inner.raw_items()).raw("message-id"))
        if found:
            return found[0]
    return None


def _recipient_fields(status: Message) -> RawHeaders:
    # Python parses message/delivery-status into header blocks: per message, then per recipient.
    payload = status.get_payload()
    if isinstance(payload, list):
        blocks = [RawHeaders(b.raw_items()) for b in payload if isinstance(b, Message)]
    else:
        text = decode_bytes(_bytes_of(status))
        blocks = [_header_block(chunk) for chunk in re.split(r"\n\s*\n", text)]
    recipients = [b for b in blocks if b.raw("final-recipient") or b.raw("action")]
    failed = [b for b in recipients if (b.raw("action") or "").lower() in ("failed", "delayed")]
    return (failed or recipients or [RawHeaders(())])[0]


def _bytes_of(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _header_block(chunk: str) -> RawHeaders:
    return RawHeaders(message_from_bytes(chunk.strip().encode(), policy=policy.default).raw_items())


def _after_type(value: str | None) -> str | None:
    """Drop the type of an RFC 3464 typed field: `rfc822; a@b` → `a@b`, `smtp; 550 …` → `550 …`."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    text = rest if sep and " " not in kind.strip() else value
    return " ".join(text.split()) or None  # folded continuation lines keep their indent


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _first(items: Iterable[str]) -> str | None:
    return next((item for item in items if item), None)
