"""EmailConnector: a mailbox polled over IMAP, replies over SMTP, and the import of one mail."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import ClassVar

import structlog
from sqlalchemy.exc import DataError

from connectors.email import smtp
from connectors.email.config import EmailConfig
from connectors.email.imap import FetchedMail, ImapPoller, Mailbox, Observer
from connectors.email.parse import Bounce, ParsedMail, parse_mail
from connectors.email.threading import make_message_id
from omnidesk.connector import ConnectorEnv, Intake
from omnidesk.errors import PermanentSendError, Quarantine
from omnidesk.inbound import InboundMessage
from omnidesk.outbound import OutboundReply, SendResult
from omnidesk.services.mail import MailboxBook

log = structlog.get_logger(__name__)

RFC822 = "message/rfc822"
# Column sizes of omnidesk.models.Message that PostgreSQL enforces (SQLite does not).
MAX_DISPLAY_NAME = 200
MAX_ADDRESS = 320
_DELIVERED = frozenset({"delivered", "relayed", "expanded"})


class EmailConnector:
    """See `omnidesk.connector.Connector`. Mail comes in through `poll`, run by workers.pollers."""

    channel: ClassVar[str] = "email"
    config_class: ClassVar[type[EmailConfig]] = EmailConfig
    identity_kind: ClassVar[str] = "email"

    def __init__(self, config: EmailConfig, env: ConnectorEnv) -> None:
        self.config = config
        self.env = env
        self.attachments = AttachmentStore(env.data_dir / "attachments")

    def check(self) -> None:
        """See `Connector.check`: IMAP login and SELECT of the folder, then SMTP EHLO and AUTH."""
        mailbox = Mailbox.open(self.config, timeout=self.env.http_timeout)
        try:
            mailbox.select(readonly=True)
        finally:
            mailbox.close()
        smtp.verify_login(self.config)

    def send(self, reply: OutboundReply) -> SendResult:
        """See `Connector.send`. The provider id is our Message-ID without angle brackets, the
        form in which a customer's In-Reply-To comes back (ingest.find_request)."""
        thread_key = reply.request_id if reply.request_id is not None else f"m{reply.message_id}"
        message_id = make_message_id(thread_key, self.config.domain)
        msg = smtp.build_reply(reply, self.config.from_address, message_id, self._files(reply))
        smtp.deliver(self.config, msg, smtp.envelope_sender(self.config, reply), [reply.to])
        return SendResult(provider_message_id=message_id.strip("<>"), status="sent")

    def poll(
        self,
        intake: Intake,
        book: MailboxBook,
        should_stop: Callable[[], bool],
        observer: Observer | None = None,
    ) -> None:
        """Import new mail until `should_stop()`: IDLE where the server has it, else polling."""
        ImapPoller(self.config, book, self.importer(intake, book), observer).run(should_stop)

    def backfill(
        self, intake: Intake, book: MailboxBook, since: date, observer: Observer | None = None
    ) -> int:
        """Import the folder's mail since `since` not stored yet; flags and moves nothing."""
        return ImapPoller(self.config, book, self.importer(intake, book), observer).backfill(since)

    def reparse(self, raw: bytes, content_type: str) -> InboundMessage:
        """Read a quarantined mail again (omnidesk.services.quarantine), the way the poller
        reads one: today's parser and today's `max_attachment_mb`, attachments stored.

        A delivery report read this way is stored as a message, but its delivery status is
        not applied to our reply (the report is late by now; the agent sees it in the thread).

        Raises:
            Quarantine: the bytes are still not a readable mail.
        """
        if content_type.split(";")[0].strip().lower() != RFC822:
            raise Quarantine(f"not_a_mail: the payload is {content_type}")
        parsed = parse_mail(
            raw, connector=self.config.name, max_attachment_bytes=self.config.max_attachment_bytes
        )
        return storable(parsed, self.attachments)

    def importer(self, intake: Intake, book: MailboxBook) -> MailImport:
        return MailImport(self.config, intake, book, self.attachments)

    def _files(self, reply: OutboundReply) -> list[smtp.OutboundFile]:
        files = []
        for attachment in reply.attachments:
            data = self.attachments.get(attachment.storage_key)
            if data is None:
                raise PermanentSendError(
                    "attachment_missing", f"attachment {attachment.filename!r} is not stored here"
                )
            files.append(smtp.OutboundFile(attachment.filename, attachment.content_type, data))
        return files


class MailImport:
    """Store one fetched mail (durability contract §1, §5): quarantine what cannot be read,
    accept the rest with its raw bytes, then record what a delivery report says."""

    def __init__(
        self, config: EmailConfig, intake: Intake, book: MailboxBook, attachments: AttachmentStore
    ) -> None:
        self.config = config
        self.intake = intake
        self.book = book
        self.attachments = attachments

    def __call__(self, mail: FetchedMail) -> None:
        parsed = self._parse(mail)
        if parsed is None:
            return
        inbound = storable(parsed, self.attachments)
        try:
            self.intake.accept(inbound, mail.raw, RFC822)
        except (ValueError, DataError) as exc:
            # The database refused this mail's values (not a connection problem): keep the
            # bytes for an admin rather than retry it for ever.
            self.quarantine(mail.raw, f"not_storable: {type(exc).__name__}: {exc}"[:2000])
            return
        if parsed.bounce is not None:
            self._record_bounce(parsed.bounce)

    def quarantine(self, raw: bytes, reason: str) -> None:
        """Hold the bytes with the reason, once (a mail fetched again is not held twice)."""
        if self.book.was_quarantined(self.config.name, hashlib.sha256(raw).hexdigest()):
            return
        self.intake.quarantine(self.config.name, raw, RFC822, reason)

    def _parse(self, mail: FetchedMail) -> ParsedMail | None:
        try:
            return parse_mail(
                mail.raw,
                connector=self.config.name,
                max_attachment_bytes=self.config.max_attachment_bytes,
                received_at=mail.received_at,
            )
        except Quarantine as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the mailbox
            reason = f"parser_failed: {type(exc).__name__}: {exc}"
        self.quarantine(mail.raw, reason)
        return None

    def _record_bounce(self, bounce: Bounce) -> None:
        update = bounce_delivery(bounce)
        if update is None or not bounce.original_message_id:
            return
        status, code, reason = update
        found = self.intake.update_delivery(
            self.config.name, bounce.original_message_id, status, code, reason
        )
        log.info(
            "bounce_recorded" if found else "bounce_unmatched",
            connector=self.config.name,
            provider_message_id=bounce.original_message_id,
            status=status,
            code=code,
        )


class AttachmentStore:
    """Attachment bytes by content digest under the data dir (the raw mail stays the source of
    truth: every file here can be rebuilt from it)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes | None) -> str | None:
        """Store the bytes (idempotent); return the storage key, or None for kept-out bytes."""
        if data is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{digest}.{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(data)
            os.replace(partial, path)
        return f"sha256:{digest}"

    def get(self, key: str | None) -> bytes | None:
        if not key or not key.startswith("sha256:"):
            return None
        path = self._path(key.removeprefix("sha256:"))
        return path.read_bytes() if path.is_file() else None

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest


def bounce_delivery(bounce: Bounce) -> tuple[str, str | None, str] | None:
    """The delivery status a report gives our message: failed, delivered, or None (delayed:
    the reporting server keeps trying, so the reply stays sent)."""
    action = (bounce.action or "").lower()
    status_class = (bounce.status or "?")[0]
    if action == "failed" or (not action and status_class == "5"):
        status = "failed"
    elif action in _DELIVERED or (not action and status_class == "2"):
        status = "delivered"
    else:
        return None
    reason = bounce.diagnostic or f"the receiving mail server reported {status} ({bounce.status})"
    return status, bounce.status, reason


def storable(parsed: ParsedMail, attachments: AttachmentStore) -> InboundMessage:
    """The message intake stores: attachment bytes kept by digest, values clipped to fit."""
    keys = [attachments.put(a.data) for a in parsed.attachments]
    return fit_for_storage(parsed.with_storage_keys(keys))


def fit_for_storage(inbound: InboundMessage) -> InboundMessage:
    """Clip what the message table cannot hold; PostgreSQL also refuses NUL in text."""
    sender = inbound.sender
    if sender.display_name and len(sender.display_name) > MAX_DISPLAY_NAME:
        sender = sender.model_copy(update={"display_name": sender.display_name[:MAX_DISPLAY_NAME]})
    return inbound.model_copy(
        update={
            "sender": sender,
            "recipient": inbound.recipient[:MAX_ADDRESS] if inbound.recipient else None,
            "subject": _no_nul(inbound.subject),
            "text": _no_nul(inbound.text) or "",
            "html": _no_nul(inbound.html),
        }
    )


def _no_nul(value: str | None) -> str | None:
    return value.replace("\x00", "") if value else value
