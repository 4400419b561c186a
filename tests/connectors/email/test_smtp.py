"""SMTP out: the reply's MIME and threading headers, the error matrix, and delivery over the wire
to a real aiosmtpd server (STARTTLS, implicit TLS, plain; scripted 4xx/5xx and dropped DATA)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from connectors.email.config import EmailConfig
from connectors.email.smtp import (
    OutboundFile,
    build_reply,
    classify_smtp_error,
    deliver,
    envelope_sender,
    text_to_html,
    verify_login,
)
from connectors.email.threading import message_ids
from omnidesk.errors import CannotConnect, InvalidAuth, PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply
from tests.servers._support import free_port, self_signed_cert
from tests.servers.smtp import SmtpServer, smtp_server

CUSTOMER = "zhaolei1987@sina.com"
FROM = "TP官方客服 <service@tp.example>"
PARENT = "20240306010541.6B2A1C0E4@webmail.sina.com"
EARLIER = "first.1@webmail.sina.com"


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture(autouse=True)
def _empty_outbox(smtp: SmtpServer) -> None:
    smtp.messages.clear()


def config_for(server: SmtpServer, **overrides: object) -> EmailConfig:
    values: dict[str, object] = {
        "name": "tp-mail",
        "imap_host": "127.0.0.1",
        "username": "service@tp.example",
        "password": "secret",
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_security": "starttls",
        "from_address": FROM,
        "ca_file": server.cert_path,
    }
    return EmailConfig.model_validate({**values, **overrides})


def reply(**overrides: object) -> OutboundReply:
    values: dict[str, object] = {
        "message_id": 7,
        "request_id": 1234,
        "to": CUSTOMER,
        "subject": "快递显示已签收但没收到货",
        "text": "您好，\n\n我们已收到您的问题，单号 #1234。\n客服 小李",
        "in_reply_to": PARENT,
        "references": (EARLIER,),
    }
    return OutboundReply.model_validate({**values, **overrides})


def send(config: EmailConfig, outbound: OutboundReply) -> EmailMessage:
    msg = build_reply(outbound, config.from_address, "<1234.abc@tp.example>")
    deliver(config, msg, envelope_sender(config, outbound), [outbound.to])
    return msg


# --- the message -------------------------------------------------------------------------------


def test_reply_has_our_message_id_the_thread_headers_and_the_request_tag() -> None:
    msg = build_reply(reply(), FROM, "<1234.abc@tp.example>")

    assert msg["Message-ID"] == "<1234.abc@tp.example>"
    assert msg["In-Reply-To"] == f"<{PARENT}>"
    assert message_ids(msg["References"]) == (EARLIER, PARENT)
    assert msg["Subject"] == "Re: 快递显示已签收但没收到货 [#1234]"
    assert msg["Auto-Submitted"] is None


def test_reply_carries_text_and_html_alternatives_in_utf8() -> None:
    msg = build_reply(reply(html="<p>您好</p>"), FROM, "<1@tp.example>")

    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None
    assert "单号 #1234" in plain.get_content()
    assert html is not None
    assert html.get_content().strip() == "<p>您好</p>"
    assert plain.get_content_charset() == "utf-8"


def test_text_only_reply_gets_an_escaped_html_rendering() -> None:
    rendered = text_to_html("a < b\nsecond line\n\nnew paragraph")
    assert "<p>a &lt; b<br>second line</p><p>new paragraph</p>" in rendered


def test_automatic_reply_is_marked_and_sent_from_the_null_sender() -> None:
    config = EmailConfig.model_validate(
        {
            "name": "m",
            "imap_host": "h",
            "username": "u",
            "password": "p",
            "smtp_host": "h",
            "from_address": FROM,
        }
    )
    ack = reply(automatic=True)
    msg = build_reply(ack, FROM, "<1@tp.example>")

    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert envelope_sender(config, ack) == ""
    assert envelope_sender(config, reply()) == "service@tp.example"
    no_null = config.model_copy(update={"auto_reply_null_sender": False})
    assert envelope_sender(no_null, ack) == "service@tp.example"


def test_reply_without_a_parent_has_no_thread_headers_and_keeps_attachments() -> None:
    files = [OutboundFile("发票.pdf", "application/pdf", b"%PDF-1.4")]
    msg = build_reply(reply(in_reply_to=None, references=()), FROM, "<1@tp.example>", files)

    assert msg["In-Reply-To"] is None
    assert msg["References"] is None
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "发票.pdf"
    assert attachment.get_content() == b"%PDF-1.4"


# --- the error matrix --------------------------------------------------------------------------

ERROR_MATRIX = [
    (smtplib.SMTPRecipientsRefused({CUSTOMER: (450, b"4.7.0 greylisted")}), TransientError, "450"),
    (smtplib.SMTPRecipientsRefused({CUSTOMER: (452, b"4.5.3 too many")}), TransientError, "452"),
    (smtplib.SMTPRecipientsRefused({CUSTOMER: (552, b"5.5.3 too many")}), TransientError, "552"),
    (
        smtplib.SMTPRecipientsRefused({CUSTOMER: (550, b"5.1.1 no such user")}),
        PermanentSendError,
        "550",
    ),
    (smtplib.SMTPSenderRefused(553, b"5.7.1 not owned", "a@b"), PermanentSendError, "553"),
    (smtplib.SMTPDataError(421, b"4.3.2 closing"), TransientError, "421"),
    (smtplib.SMTPDataError(451, b"4.3.0 try later"), TransientError, "451"),
    (smtplib.SMTPDataError(552, b"5.3.4 message too big"), PermanentSendError, "552"),
    (smtplib.SMTPDataError(554, b"5.7.1 spam"), PermanentSendError, "554"),
    (smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"), PermanentSendError, "535"),
    (smtplib.SMTPConnectError(421, b"busy"), TransientError, "421"),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), TransientError, None),
    (ConnectionRefusedError(111, "Connection refused"), TransientError, None),
    (TimeoutError("timed out"), TransientError, None),
    (ssl.SSLError("certificate verify failed"), TransientError, None),
    (
        smtplib.SMTPNotSupportedError("STARTTLS extension not supported"),
        PermanentSendError,
        "smtp_not_supported",
    ),
]


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    ERROR_MATRIX,
    ids=[type(e[0]).__name__ + f"-{e[2]}" for e in ERROR_MATRIX],
)
def test_smtp_failures_are_transient_on_4xx_and_drops_and_permanent_on_5xx(
    error: Exception, kind: type[Exception], code: str | None
) -> None:
    classified = classify_smtp_error(error)
    assert isinstance(classified, kind)
    assert classified.code == code


def test_permanent_failure_keeps_the_servers_text_for_the_agent() -> None:
    refused = smtplib.SMTPRecipientsRefused({CUSTOMER: (550, b"5.1.1 <x>: user unknown")})
    classified = classify_smtp_error(refused)
    assert isinstance(classified, PermanentSendError)
    assert classified.reason == "5.1.1 <x>: user unknown"


# --- over the wire -----------------------------------------------------------------------------


def test_reply_is_delivered_over_starttls_with_auth(smtp: SmtpServer) -> None:
    send(config_for(smtp), reply())

    [mail] = smtp.wait_for_messages(1)
    assert (mail.mail_from, mail.rcpt_tos, mail.login) == (
        "service@tp.example",
        [CUSTOMER],
        "service@tp.example",
    )
    assert mail.parsed["Subject"] == "Re: 快递显示已签收但没收到货 [#1234]"
    assert mail.parsed["From"].addresses[0].display_name == "TP官方客服"
    assert mail.parsed["In-Reply-To"] == f"<{PARENT}>"


def test_smtp_username_and_password_override_the_imap_login(smtp: SmtpServer) -> None:
    config = config_for(
        smtp,
        password="imap-only",
        smtp_username="desk@tp.example",
        smtp_password="secret",
        smtp_security="none",
    )
    send(config, reply())
    assert smtp.wait_for_messages(1)[0].login == "desk@tp.example"


def test_automatic_reply_reaches_the_server_with_an_empty_envelope_sender(smtp: SmtpServer) -> None:
    send(config_for(smtp), reply(automatic=True))
    [mail] = smtp.wait_for_messages(1)
    assert mail.mail_from == "<>"
    assert mail.parsed["Auto-Submitted"] == "auto-replied"


@pytest.mark.parametrize(
    ("code", "text", "kind"),
    [
        (450, "4.7.0 greylisted, try again", TransientError),
        (550, "5.1.1 <zhaolei1987@sina.com>: mailbox unavailable", PermanentSendError),
    ],
    ids=["450", "550"],
)
def test_rcpt_refusal_is_mapped_with_the_servers_code(
    smtp: SmtpServer, code: int, text: str, kind: type[Exception]
) -> None:
    smtp.respond(CUSTOMER, code, text)
    with pytest.raises(kind) as refused:
        send(config_for(smtp), reply())
    assert refused.value.code == str(code)  # type: ignore[attr-defined]
    assert text in str(refused.value)
    assert smtp.messages == []


def test_connection_dropped_at_data_is_transient(smtp: SmtpServer) -> None:
    smtp.drop_next()
    with pytest.raises(TransientError):
        send(config_for(smtp), reply())
    assert smtp.messages == []


def test_unreachable_server_is_transient(smtp: SmtpServer) -> None:
    with pytest.raises(TransientError):
        send(config_for(smtp, smtp_port=free_port()), reply())


def test_wrong_password_fails_the_send_permanently_with_535(smtp: SmtpServer) -> None:
    with pytest.raises(PermanentSendError) as refused:
        send(config_for(smtp, password="wrong"), reply())
    assert refused.value.code == "535"


def test_untrusted_certificate_is_refused_unless_verification_is_off(smtp: SmtpServer) -> None:
    untrusted = config_for(smtp, ca_file=None)
    with pytest.raises(TransientError, match="CERTIFICATE_VERIFY_FAILED"):
        send(untrusted, reply())
    send(untrusted.model_copy(update={"verify_tls": False}), reply())
    assert len(smtp.wait_for_messages(1)) == 1


def test_login_check_names_the_refused_field(smtp: SmtpServer) -> None:
    verify_login(config_for(smtp))
    with pytest.raises(InvalidAuth) as imap_password:
        verify_login(config_for(smtp, password="wrong"))
    with pytest.raises(InvalidAuth) as smtp_password:
        verify_login(config_for(smtp, smtp_password="wrong"))
    with pytest.raises(CannotConnect):
        verify_login(config_for(smtp, smtp_port=free_port()))
    assert (imap_password.value.field, smtp_password.value.field) == ("password", "smtp_password")


def test_oauth_token_goes_out_as_xoauth2_and_a_server_without_it_refuses(smtp: SmtpServer) -> None:
    # aiosmtpd offers PLAIN and LOGIN only: the XOAUTH2 attempt must reach it and be refused.
    config = config_for(smtp, password=None, oauth2_token="ya29.token")
    with pytest.raises(InvalidAuth) as refused:
        verify_login(config)
    assert refused.value.field == "oauth2_token"


# --- implicit TLS (port 465 style) -------------------------------------------------------------


class _Recorder:
    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 OK"


@pytest.fixture
def implicit_tls_server(tmp_path: Path) -> Iterator[tuple[_Recorder, int, Path]]:
    cert, key = self_signed_cert(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = _Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    yield recorder, port, cert
    controller.stop()


def test_reply_is_delivered_over_implicit_tls(
    smtp: SmtpServer, implicit_tls_server: tuple[_Recorder, int, Path]
) -> None:
    recorder, port, cert = implicit_tls_server
    config = config_for(smtp, smtp_security="ssl", smtp_port=port, ca_file=cert)

    send(config, reply())

    [(sender, recipients, data)] = recorder.envelopes
    assert (sender, recipients) == ("service@tp.example", [CUSTOMER])
    assert b"Message-ID: <1234.abc@tp.example>" in data
