"""Parse one raw mail into a ParsedMail: the InboundMessage plus attachment bytes and reports.

Pure: no I/O. The caller stores the raw bytes and attachment bytes, then fills `raw_ref` and
the attachments' storage keys (`ParsedMail.with_storage_keys`).

`InboundMessage.text` carries the new text (what the customer just wrote, without quoted
history and signature): classification, routing and the agent's view want that, and the
history is mostly our own earlier reply. When nothing new is left (a bare forward, a
message that is all quote) it carries the full text instead. `ParsedMail.full_text` always
holds the whole text and `InboundMessage.html` the raw HTML (the UI escapes it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import errors, message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

from connectors.email import quoting, reports
from connectors.email.body import ParsedAttachment, read_body
from connectors.email.mime import RawHeaders
from connectors.email.reports import Bounce
from connectors.email.threading import message_ids, subject_tag
from omnidesk.errors import Quarantine
from omnidesk.inbound import InboundMessage, Sender, ThreadHints

__all__ = ["Bounce", "ParsedAttachment", "ParsedMail", "parse_mail"]

CHANNEL = "email"
DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_MESSAGE_ID = 512
_CONTENT_TYPE = re.compile(rb"^content-type:.*(?:\r?\n[ \t].*)*", re.IGNORECASE | re.MULTILINE)
_BOUNDARY_LINE = re.compile(r"^--([^\s][^\r\n]{0,69}?)(?:--)?[ \t]*\r?$", re.MULTILINE)
# What the stdlib raises on input it cannot make sense of (it is not meant to, but does).
_UNREADABLE = (errors.MessageError, ValueError, TypeError, LookupError, AttributeError)


@dataclass(frozen=True)
class ParsedMail:
    """A parsed mail: the normalised message plus what only the email connector needs."""

    inbound: InboundMessage
    new_text: str
    full_text: str
    attachments: tuple[ParsedAttachment, ...] = ()
    bounce: Bounce | None = None
    is_read_receipt: bool = False
    defects: tuple[str, ...] = ()

    def with_storage_keys(self, keys: Sequence[str | None]) -> InboundMessage:
        """The InboundMessage with the attachments' storage keys, given in attachment order."""
        records = tuple(a.metadata(key) for a, key in zip(self.attachments, keys, strict=True))
        return self.inbound.model_copy(update={"attachments": records})


def parse_mail(
    raw: bytes,
    *,
    connector: str,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    received_at: datetime | None = None,
) -> ParsedMail:
    """Parse a raw RFC 5322 mail (protocols 4.2-4.4).

    Args:
        raw: the bytes as fetched (CRLF or LF line ends).
        connector: the connector's name, copied into the InboundMessage.
        max_attachment_bytes: larger attachments are recorded with a note but not kept.
        received_at: when the mailbox got it (IMAP INTERNALDATE); defaults to now.

    Raises:
        Quarantine: the bytes are not a readable mail (empty, no headers, no sender).
    """
    try:
        return _parse(raw, connector, max_attachment_bytes, received_at)
    except _UNREADABLE as exc:
        raise Quarantine(f"unreadable: {type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, connector: str, limit: int, received_at: datetime | None) -> ParsedMail:
    msg, defects = _read(raw)
    headers = RawHeaders(msg.raw_items())
    sender = _sender(headers)
    subject = headers.text("subject")
    body = read_body(msg, limit)
    new_text = quoting.new_text(body.text)
    report = reports.report_type(msg)
    bounce = _bounce(msg, headers, report, sender.address, body.text)
    sent_at = _sent_at(headers)
    if headers.raw("date") and sent_at is None:
        defects.append("InvalidDateHeader")
    inbound = InboundMessage(
        channel=CHANNEL,
        connector=connector,
        provider_message_id=_message_id(headers, raw),
        sender=sender,
        recipient=_recipient(headers),
        sent_at=sent_at,
        received_at=received_at or datetime.now(UTC),
        subject=subject,
        text=new_text or body.text,
        html=body.html,
        attachments=tuple(a.metadata() for a in body.attachments),
        thread=_thread(headers, subject),
        automatic=reports.automatic_reason(headers, sender.address, subject)
        or _report_reason(report, bounce),
    )
    return ParsedMail(
        inbound=inbound,
        new_text=new_text,
        full_text=body.text,
        attachments=body.attachments,
        bounce=bounce,
        is_read_receipt=report == "disposition-notification",
        defects=tuple(dict.fromkeys(defects)),
    )


def _read(raw: bytes) -> tuple[EmailMessage, list[str]]:
    if not raw.strip():
        raise Quarantine("empty: the mail has no bytes")
    # Some stores and tools prefix a blank line; the parser would take it as the end of headers.
    raw = raw.lstrip(b"\r\n")
    msg = message_from_bytes(raw, policy=policy.default)
    if not msg.keys():
        raise Quarantine("not_a_mail: no header lines")
    msg = _recover_boundary(raw, msg)
    defects = [type(defect).__name__ for part in msg.walk() for defect in part.defects]
    return msg, defects


def _recover_boundary(raw: bytes, msg: EmailMessage) -> EmailMessage:
    """Re-read a multipart whose boundary parameter is missing, using the first delimiter line."""
    if msg.get_content_maintype() != "multipart" or msg.is_multipart():
        return msg
    found = _BOUNDARY_LINE.search(str(msg.get_payload()))
    if found is None or not found.group(1).isascii():
        return msg
    # Rewrite the raw Content-Type header (with its folded lines) rather than regenerate the
    # message: the generator cannot re-encode every header it was able to parse.
    header = f'Content-Type: {msg.get_content_type()}; boundary="{found.group(1)}"'
    fixed = _CONTENT_TYPE.sub(lambda _: header.encode(), raw, count=1)
    repaired = message_from_bytes(fixed, policy=policy.default)
    if not repaired.is_multipart():
        return msg
    repaired.defects.append(errors.NoBoundaryInMultipartDefect())
    return repaired


def _sender(headers: RawHeaders) -> Sender:
    for name in ("from", "sender", "return-path"):
        found = headers.addresses(name)
        if found:
            display, address = found[0]
            return Sender(kind=CHANNEL, address=address, display_name=display)
    raise Quarantine("no_sender: no From, Sender or Return-Path address")


def _recipient(headers: RawHeaders) -> str | None:
    # Delivered-To names the mailbox that got it; To may list the customer's other addressees.
    for name in ("delivered-to", "x-original-to", "to", "cc"):
        found = headers.addresses(name)
        if found:
            return found[0][1]
    return None


def _message_id(headers: RawHeaders, raw: bytes) -> str:
    found = message_ids(headers.raw("message-id"))
    if found and len(found[0]) <= MAX_MESSAGE_ID:
        return found[0]
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _sent_at(headers: RawHeaders) -> datetime | None:
    value = headers.text("date")
    if not value:
        return None
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 5322 3.3: "-0000" means UTC with no local zone known; Python returns a naive time.
    return (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).astimezone(UTC)


def _thread(headers: RawHeaders, subject: str | None) -> ThreadHints:
    in_reply_to = message_ids(headers.raw("in-reply-to"))
    return ThreadHints(
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=message_ids(headers.raw("references")),
        subject_tag=subject_tag(subject),
    )


def _bounce(
    msg: Message, headers: RawHeaders, report: str | None, address: str, text: str
) -> Bounce | None:
    if report == "delivery-status":
        return reports.delivery_status(msg)
    if report is None and reports.is_daemon(address):
        return reports.prose_bounce(msg, headers, text)
    return None


def _report_reason(report: str | None, bounce: Bounce | None) -> str | None:
    """Why a report with no automatic-mail header is still machine-sent."""
    if bounce is not None:
        return "delivery_report"
    return "read_receipt" if report == "disposition-notification" else None
