"""Split a parsed message into readable text, raw HTML and attachments (protocols 4.2)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message

from connectors.email.mime import RawHeaders, decode_bytes, html_to_text, part_param, unflow
from connectors.email.quoting import tidy
from connectors.email.threading import message_ids
from omnidesk.inbound import Attachment

# Machine-readable parts of a multipart/report: read into Bounce, not listed as attachments.
_REPORT_PARTS = frozenset(
    {
        "message/delivery-status",
        "message/disposition-notification",
        "message/rfc822",
        "text/rfc822-headers",
    }
)


@dataclass(frozen=True)
class ParsedAttachment:
    """One attachment with its bytes; `data` is None (and `note` says why) when not kept."""

    filename: str | None
    content_type: str
    size: int
    content_id: str | None
    inline: bool
    data: bytes | None
    note: str | None = None

    def metadata(self, storage_key: str | None = None) -> Attachment:
        """The InboundMessage attachment record for this part."""
        return Attachment(
            filename=self.filename,
            content_type=self.content_type,
            size=self.size,
            content_id=self.content_id,
            inline=self.inline,
            storage_key=storage_key,
        )


@dataclass(frozen=True)
class Body:
    """The readable text (quoted history included), the raw HTML and the attachments."""

    text: str
    html: str | None
    attachments: tuple[ParsedAttachment, ...]


def read_body(msg: EmailMessage, max_attachment_bytes: int) -> Body:
    """Pick the text/plain body for text (HTML rendered when there is none) and keep the rest.

    Inline images of multipart/related come back as inline attachments with their Content-ID,
    which the HTML references as `cid:`.
    """
    plain = _body_part(msg, "plain")
    html_part = _body_part(msg, "html")
    html = _text_of(html_part) if html_part is not None else None
    if plain is not None:
        texts = [_text_of(plain)]
    elif html is not None:
        texts = [html_to_text(html)]
    else:
        # A leaf root that is text, or a multipart whose boundary could not be recovered.
        unsplit = not msg.is_multipart() and msg.get_content_maintype() == "multipart"
        texts = [_text_of(msg)] if unsplit or _is_text_leaf(msg) else []
    attachments = []
    for part in _leaves(msg, in_report=False):
        if part is plain or part is html_part or (part is msg and texts):
            continue
        if _is_text_leaf(part):
            if part.get_content_subtype() == "plain" and plain is not None:
                texts.append(_text_of(part))  # a footer part, shown inline by mail clients
            continue
        attachments.append(_attachment(part, max_attachment_bytes))
    return Body(tidy("\n\n".join(texts)), html, tuple(attachments))


def _body_part(msg: EmailMessage, subtype: str) -> EmailMessage | None:
    try:
        return msg.get_body(preferencelist=(subtype,))  # type: ignore[return-value]
    except (AttributeError, TypeError, KeyError):
        # get_body trips over some broken trees (a string where a part should be):
        # fall back to the first inline text part of that subtype.
        kind = f"text/{subtype}"
        leaves = _leaves(msg, in_report=False)
        return next((p for p in leaves if p.get_content_type() == kind and _is_text_leaf(p)), None)


def _leaves(part: EmailMessage, *, in_report: bool) -> Iterator[EmailMessage]:
    # Recurse into multiparts only: a message/rfc822 part is one attachment, not more parts.
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        report = in_report or part.get_content_subtype() == "report"
        for sub in part.iter_parts():
            yield from _leaves(sub, in_report=report)  # type: ignore[arg-type]
    elif not (in_report and part.get_content_type() in _REPORT_PARTS):
        yield part


def _is_text_leaf(part: EmailMessage) -> bool:
    """A text/plain or text/html part meant to be read inline, not a named attachment."""
    if part.get_content_type() not in ("text/plain", "text/html") or part.is_multipart():
        return False
    return not part.is_attachment() and part_param(part, "filename", "content-disposition") is None


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True)
    charset = part_param(part, "charset", "content-type")
    text = decode_bytes(data if isinstance(data, bytes) else b"", charset)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if (part_param(part, "format", "content-type") or "").lower() == "flowed":
        delsp = (part_param(part, "delsp", "content-type") or "").lower() == "yes"
        text = unflow(text, delsp=delsp)
    return text


def _attachment(part: EmailMessage, limit: int) -> ParsedAttachment:
    data = _payload(part)
    content_id = _content_id(part)
    disposition = part.get_content_disposition()
    kept = len(data) <= limit
    return ParsedAttachment(
        filename=part_param(part, "filename", "content-disposition")
        or part_param(part, "name", "content-type"),
        content_type=part.get_content_type(),
        size=len(data),
        content_id=content_id,
        inline=disposition == "inline" or (disposition is None and content_id is not None),
        data=data if kept else None,
        note=None if kept else f"not kept: {len(data)} bytes is over the {limit}-byte limit",
    )


def _payload(part: EmailMessage) -> bytes:
    forwarded = part.get_content_type() == "message/rfc822" and part.is_multipart()
    inner = part.get_payload(0) if forwarded else None
    if isinstance(inner, Message):
        # A forwarded mail, kept as .eml bytes. compat32 writes the headers as they came;
        # the default policy refolds them and fails on raw 8-bit ones.
        return inner.as_bytes(policy=policy.compat32)
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _content_id(part: EmailMessage) -> str | None:
    raw = RawHeaders(part.raw_items()).raw("content-id")
    if not raw:
        return None
    found = message_ids(raw)
    return found[0] if found else raw.strip("<> ") or None
