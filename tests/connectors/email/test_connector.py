"""EmailConnector: its config table, check() against real servers, send(), and the per-mail import
rules (bounces, attachments, values the database cannot hold)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from sqlmodel import Session, select

from connectors.email import EmailConnector
from connectors.email.config import EmailConfig
from connectors.email.connector import AttachmentStore, bounce_delivery, fit_for_storage
from connectors.email.parse import Bounce
from omnidesk.connector import ConnectorEnv, load_registry
from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.errors import CannotConnect, ConfigError, InvalidAuth
from omnidesk.inbound import InboundMessage, Sender
from omnidesk.models import ConnectorRecord, DeliveryStatus, Direction, Message
from omnidesk.outbound import OutboundReply
from omnidesk.services.mail import auto_reply_allowed
from omnidesk.settings import Settings
from tests.servers._support import free_port
from tests.servers.dovecot import DovecotServer, dovecot_server
from tests.servers.smtp import SmtpServer, smtp_server

pytestmark = pytest.mark.slow

USER = "service@tp.example"
BASE: dict[str, Any] = {
    "name": "tp-mail",
    "channel": "email",
    "imap_host": "imap.example.com",
    "imap_port": 993,
    "imap_security": "ssl",
    "username": USER,
    "password": "s3cret-password",
    "folder": "INBOX",
    "processed_folder": "",
    "smtp_host": "smtp.example.com",
    "smtp_port": 465,
    "smtp_security": "ssl",
    "from_address": "TP官方客服 <service@tp.example>",
}

# raw table → None (valid) or the key the error names
CONFIG_CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("the issue's example", {}, None),
    ("oauth token instead of password", {"password": None, "oauth2_token": "ya29.x"}, None),
    ("both password and token", {"oauth2_token": "ya29.x"}, "(table)"),
    ("neither password nor token", {"password": None}, "(table)"),
    ("empty password", {"password": ""}, "(table)"),
    (
        "starttls and a processed folder",
        {"imap_security": "starttls", "imap_port": 143, "processed_folder": "Archive"},
        None,
    ),
    ("unknown security", {"imap_security": "tls"}, "imap_security"),
    ("port out of range", {"smtp_port": 70000}, "smtp_port"),
    ("a typo is an error", {"pasword": "x"}, "pasword"),
    ("idle longer than 29 minutes", {"idle_timeout": 30 * 60}, "idle_timeout"),
    ("idle of 29 minutes", {"idle_timeout": 29 * 60}, None),
    ("from without an address", {"from_address": "TP客服"}, "from_address"),
    ("processed folder is the folder", {"processed_folder": "INBOX"}, "(table)"),
    ("batch size zero", {"batch_size": 0}, "batch_size"),
    ("host with a space", {"imap_host": "imap example.com"}, "imap_host"),
    ("wrong channel", {"channel": "sms"}, "channel"),
]


@pytest.mark.parametrize(
    ("case", "changes", "error"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES]
)
def test_config_table_is_validated_key_by_key(
    case: str, changes: dict[str, Any], error: str | None
) -> None:
    table = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    if error is None:
        EmailConfig.model_validate(table)
        return
    with pytest.raises(ValidationError) as refused:
        EmailConfig.model_validate(table)
    keys = {".".join(str(p) for p in e["loc"]) or "(table)" for e in refused.value.errors()}
    assert error in keys, case


def test_config_defaults_smtp_login_to_the_imap_one_and_hides_secrets() -> None:
    config = EmailConfig.model_validate(BASE)

    assert (config.smtp_login, config.smtp_secret) == (USER, config.password)
    assert (config.max_attachment_bytes, config.auto_reply_limit_per_day) == (25 * 1024**2, 5)
    assert config.idle_timeout <= 29 * 60
    assert config.verify_tls
    assert isinstance(config.password, SecretStr)
    assert "s3cret" not in repr(config)
    assert "s3cret" not in str(config.redacted())
    assert config.redacted()["password"] == "**********"
    assert config.account_identity() == ("email", "imap.example.com", USER, "INBOX")
    own = EmailConfig.model_validate({**BASE, "smtp_username": "o@x", "smtp_password": "p2"})
    assert own.smtp_login == "o@x"
    assert own.smtp_secret.get_secret_value() == "p2"


def test_the_email_channel_is_registered_under_its_entry_point() -> None:
    registry = load_registry()
    assert registry.get("email") is EmailConnector
    assert (EmailConnector.channel, EmailConnector.identity_kind) == ("email", "email")


def test_two_connectors_on_one_mailbox_are_refused_as_already_configured(
    configure: Callable[[str], Settings],
) -> None:
    tables = "".join(
        _table({**BASE, "name": name, "password": "${MAIL_PASSWORD}"})
        for name in ("tp-mail", "tp-mail-2")
    )
    settings = configure(tables)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MAIL_PASSWORD", "from-env")
        with pytest.raises(ConfigError, match="already_configured"):
            Desk.load(settings)


def _table(values: dict[str, Any]) -> str:
    body = "\n".join(
        f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in values.items()
    )
    return f"[[connectors]]\n{body}\n"


# --- check() against the real servers ----------------------------------------------------------


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DovecotServer, SmtpServer]]:
    with dovecot_server(tmp_path_factory.mktemp("dovecot")) as dovecot, smtp_server() as smtp:
        yield dovecot, smtp


def connector_for(
    dovecot: DovecotServer, smtp: SmtpServer, tmp_path: Path, **changes: Any
) -> EmailConnector:
    values = {
        **BASE,
        "imap_host": dovecot.host,
        "imap_port": dovecot.tls_port,
        "password": dovecot.users[USER],
        "ca_file": str(dovecot.cert_path),
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
    }
    config = EmailConfig.model_validate({**values, **changes})
    return EmailConnector(config, ConnectorEnv(public_url="http://x", data_dir=tmp_path))


def test_check_passes_with_imap_over_tls_and_smtp_auth(servers: Any, tmp_path: Path) -> None:
    connector_for(*servers, tmp_path).check()


def test_check_reports_an_unreachable_server_or_a_missing_folder_as_cannot_connect(
    servers: Any, tmp_path: Path
) -> None:
    with pytest.raises(CannotConnect, match="IMAP server"):
        connector_for(*servers, tmp_path, imap_port=free_port()).check()
    with pytest.raises(CannotConnect, match="No-Such-Folder"):
        connector_for(*servers, tmp_path, folder="No-Such-Folder").check()
    with pytest.raises(CannotConnect, match="SMTP server"):
        connector_for(*servers, tmp_path, smtp_port=free_port()).check()


def test_check_refuses_an_untrusted_certificate(servers: Any, tmp_path: Path) -> None:
    with pytest.raises(CannotConnect, match="CERTIFICATE_VERIFY_FAILED"):
        connector_for(*servers, tmp_path, ca_file=None).check()
    connector_for(*servers, tmp_path, ca_file=None, verify_tls=False).check()


def test_check_names_the_refused_credential(tmp_path: Path, servers: Any) -> None:
    # A Dovecot of its own: after a failed login Dovecot slows logins from the address.
    dovecot, smtp = servers
    with pytest.raises(InvalidAuth) as smtp_password:
        connector_for(dovecot, smtp, tmp_path, smtp_password="wrong").check()
    with dovecot_server(tmp_path / "own") as own:
        with pytest.raises(InvalidAuth) as token:
            connector_for(own, smtp, tmp_path, password=None, oauth2_token="ya29.bad").check()
        with pytest.raises(InvalidAuth) as imap_password:
            connector_for(own, smtp, tmp_path, password="wrong").check()
    assert imap_password.value.field == "password"
    assert token.value.field == "oauth2_token"  # this Dovecot offers no XOAUTH2 at all
    assert smtp_password.value.field == "smtp_password"
    assert "wrong" not in str(imap_password.value)


def test_send_returns_our_message_id_without_brackets(servers: Any, tmp_path: Path) -> None:
    _dovecot, smtp = servers
    smtp.messages.clear()
    connector = connector_for(*servers, tmp_path)
    reply = OutboundReply(
        message_id=3,
        request_id=42,
        to="kehu@example.cn",
        subject="退货",
        text="您好",
        in_reply_to="parent@example.cn",
    )

    result = connector.send(reply)

    [mail] = smtp.wait_for_messages(1)
    assert f"<{result.provider_message_id}>" == mail.parsed["Message-ID"]
    assert result.provider_message_id.startswith("42.")
    assert result.provider_message_id.endswith("@tp.example")
    assert mail.parsed["Subject"] == "Re: 退货 [#42]"


def test_send_attaches_stored_files(servers: Any, tmp_path: Path) -> None:
    _dovecot, smtp = servers
    smtp.messages.clear()
    connector = connector_for(*servers, tmp_path)
    key = connector.attachments.put(b"PDF bytes")
    reply = OutboundReply.model_validate(
        {
            "message_id": 3,
            "request_id": 42,
            "to": "kehu@example.cn",
            "text": "见附件",
            "attachments": [
                {"filename": "单据.pdf", "content_type": "application/pdf", "storage_key": key}
            ],
        }
    )

    connector.send(reply)

    [attachment] = list(smtp.wait_for_messages(1)[0].parsed.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("单据.pdf", b"PDF bytes")


# --- import rules ------------------------------------------------------------------------------

BOUNCES = [
    (
        Bounce("failed", "5.1.1", "550 5.1.1 user unknown", "a@b", "x@y"),
        ("failed", "5.1.1", "550 5.1.1 user unknown"),
    ),
    (
        Bounce(None, "5.7.1", None, "a@b", "x@y"),
        ("failed", "5.7.1", "the receiving mail server reported failed (5.7.1)"),
    ),
    (Bounce("delayed", "4.4.7", "timeout", "a@b", "x@y"), None),
    (
        Bounce("delivered", "2.0.0", None, "a@b", "x@y"),
        ("delivered", "2.0.0", "the receiving mail server reported delivered (2.0.0)"),
    ),
    (
        Bounce("relayed", None, None, "a@b", "x@y"),
        ("delivered", None, "the receiving mail server reported delivered (None)"),
    ),
]


@pytest.mark.parametrize(
    ("bounce", "expected"), BOUNCES, ids=["failed", "5xx", "delayed", "delivered", "relayed"]
)
def test_a_delivery_report_maps_to_failed_delivered_or_nothing(
    bounce: Bounce, expected: tuple[str, str | None, str] | None
) -> None:
    assert bounce_delivery(bounce) == expected


def test_values_the_message_table_cannot_hold_are_clipped() -> None:
    inbound = InboundMessage(
        channel="email",
        connector="tp-mail",
        provider_message_id="a@b",
        sender=Sender(kind="email", address="a@b", display_name="名" * 300),
        recipient="r" * 400,
        subject="sub\x00ject",
        text="te\x00xt",
    )
    fitted = fit_for_storage(inbound)
    assert len(fitted.sender.display_name or "") == 200
    assert len(fitted.recipient or "") == 320
    assert (fitted.subject, fitted.text) == ("subject", "text")


def test_attachments_are_stored_once_by_content(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    key = store.put(b"photo")
    assert store.put(b"photo") == key
    assert key is not None
    assert key.startswith("sha256:")
    assert store.get(key) == b"photo"
    assert store.put(None) is None
    assert store.get("sha256:" + "0" * 64) is None
    assert len(list(tmp_path.rglob("*"))) == 2  # one directory, one file


def test_automatic_replies_to_one_address_are_limited_per_day(settings: Settings) -> None:
    with unit_of_work(settings) as session:
        record = ConnectorRecord(name="tp-mail", channel="email")
        session.add(record)
        session.flush()
        incoming = Message(
            connector_id=record.id,
            channel="email",
            direction=Direction.INBOUND,
            sender="Kehu@Example.cn",
        )
        for _ in range(2):
            session.add(
                Message(
                    connector_id=record.id,
                    channel="email",
                    direction=Direction.OUTBOUND,
                    kind="acknowledgement",
                    author="system",
                    recipient="kehu@example.cn",
                    status=DeliveryStatus.SENT,
                )
            )
        session.add(
            Message(
                connector_id=record.id,
                channel="email",
                direction=Direction.OUTBOUND,
                kind="reply",
                author="agent:li",
                recipient="kehu@example.cn",
            )
        )
        session.flush()
        assert auto_reply_allowed(session, incoming, limit_per_day=3)
        assert not auto_reply_allowed(session, incoming, limit_per_day=2)
        assert not auto_reply_allowed(session, incoming, limit_per_day=0)
    with Session(get_engine(settings)) as session:
        assert len(session.exec(select(Message)).all()) == 3
