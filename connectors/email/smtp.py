"""SMTP out: build a threaded reply (text + HTML), deliver it, and map failures (protocols 4.5)."""

from __future__ import annotations

import html
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from connectors.email.config import EmailConfig
from connectors.email.threading import reply_headers, reply_subject
from omnidesk.errors import CannotConnect, InvalidAuth, PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply

DEFAULT_TIMEOUT = 30.0
# RFC 5321 4.5.3.1.10: a 552 to RCPT TO ("too many recipients") is to be treated as 452.
_RCPT_TRANSIENT = frozenset({552})


@dataclass(frozen=True)
class OutboundFile:
    """An attachment of a reply, with its bytes."""

    filename: str | None
    content_type: str
    data: bytes


def build_reply(
    reply: OutboundReply,
    from_address: str,
    message_id: str,
    files: Sequence[OutboundFile] = (),
) -> EmailMessage:
    """The MIME reply: our Message-ID, the conversation's In-Reply-To/References, the `[#id]`
    tag in the subject, text and HTML alternatives, and RFC 3834 marks when it is automatic."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = from_address
    msg["To"] = reply.to
    msg["Subject"] = _subject(reply)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id
    if reply.in_reply_to:
        in_reply_to, references = reply_headers(reply.in_reply_to, reply.references)
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references
    if reply.automatic:
        msg["Auto-Submitted"] = "auto-replied"
        # Microsoft's header: Exchange and Outlook then send no out-of-office answer to it.
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(reply.text)
    msg.add_alternative(reply.html or text_to_html(reply.text), subtype="html")
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        msg.add_attachment(
            file.data, maintype=maintype, subtype=subtype or "octet-stream", filename=file.filename
        )
    return msg


def text_to_html(text: str) -> str:
    """A plain HTML rendering of a text reply: escaped, paragraphs and line breaks kept."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


def envelope_sender(config: EmailConfig, reply: OutboundReply) -> str:
    """MAIL FROM: empty for automatic replies (RFC 3834 5.1), else our address."""
    return "" if reply.automatic and config.auto_reply_null_sender else config.sender_address


def deliver(config: EmailConfig, msg: EmailMessage, sender: str, recipients: list[str]) -> None:
    """Send one message; raise TransientError or PermanentSendError."""
    smtp: smtplib.SMTP | None = None
    try:
        smtp = connect(config)
        smtp.send_message(msg, from_addr=sender, to_addrs=recipients)
    except (smtplib.SMTPException, OSError) as exc:
        raise classify_smtp_error(exc) from exc
    finally:
        if smtp is not None:
            _quit_quietly(smtp)


def verify_login(config: EmailConfig) -> None:
    """EHLO and AUTH once (the SMTP half of `Connector.check`)."""
    try:
        _quit_quietly(connect(config))
    except smtplib.SMTPAuthenticationError as exc:
        field = "smtp_password" if config.smtp_password else _credential_field(config)
        raise InvalidAuth(
            f"the SMTP server refused the login: {_text(exc.smtp_error)}", field
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise CannotConnect(f"cannot reach the SMTP server: {exc}") from exc


def connect(config: EmailConfig, timeout: float = DEFAULT_TIMEOUT) -> smtplib.SMTP:
    """An SMTP session over SSL, STARTTLS or plain text, logged in when the server offers AUTH."""
    context = config.tls_context()
    # EHLO names our mail domain: socket.getfqdn() can stall on a host without DNS.
    local = config.domain
    smtp: smtplib.SMTP
    if config.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(
            config.smtp_host,
            config.smtp_port,
            local_hostname=local,
            timeout=timeout,
            context=context,
        )
    else:
        smtp = smtplib.SMTP(
            config.smtp_host, config.smtp_port, local_hostname=local, timeout=timeout
        )
    try:
        smtp.ehlo()
        if config.smtp_security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if smtp.has_extn("auth"):
            _login(smtp, config)
    except BaseException:
        smtp.close()
        raise
    return smtp


def classify_smtp_error(exc: BaseException) -> TransientError | PermanentSendError:
    """4yz replies and lost connections are transient, 5yz replies permanent (RFC 5321 4.2.1)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, text = next(iter(exc.recipients.values()))
        return _by_code(code, text, rcpt=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentSendError("smtp_not_supported", f"the SMTP server cannot do this: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return TransientError(f"SMTP connection failed: {exc or type(exc).__name__}")
    if isinstance(exc, smtplib.SMTPException):
        return PermanentSendError("smtp_error", str(exc))
    return TransientError(f"SMTP failed: {exc}")


def _by_code(
    code: int, text: bytes | str, rcpt: bool = False
) -> TransientError | PermanentSendError:
    reason = f"{code} {_text(text)}".strip()
    if 400 <= code < 500 or (rcpt and code in _RCPT_TRANSIENT):
        return TransientError(reason, str(code))
    if 500 <= code < 600:
        return PermanentSendError(str(code), _text(text) or f"the SMTP server answered {code}")
    return TransientError(reason, str(code) if code > 0 else None)


def _login(smtp: smtplib.SMTP, config: EmailConfig) -> None:
    secret = config.smtp_secret
    if secret is not None:
        smtp.login(config.smtp_login, secret.get_secret_value())
        return
    token = config.oauth2_token.get_secret_value() if config.oauth2_token else ""
    initial = f"user={config.smtp_login}\x01auth=Bearer {token}\x01\x01"

    def xoauth2(challenge: bytes | None = None) -> str:
        # On failure the server sends a base64 JSON challenge; the client answers with an
        # empty line (Google's XOAUTH2 protocol page, protocols 4.1).
        return initial if challenge is None else ""

    smtp.auth("XOAUTH2", xoauth2)


def _credential_field(config: EmailConfig) -> str:
    return "oauth2_token" if config.uses_oauth2 else "password"


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    # The message is accepted once DATA got its 250; a failing QUIT must not undo that.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _subject(reply: OutboundReply) -> str:
    if reply.request_id is None:
        return reply.subject or ""
    return reply_subject(reply.subject, reply.request_id)
