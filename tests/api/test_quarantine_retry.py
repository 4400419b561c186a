"""Retrying a quarantined mail through the API: it becomes a request with the connector's current
settings, once however often it is retried; one that still fails stays held with the new reason;
every retry is audited. The desk has an email connector and a worker; no mail server is needed
(a retry reads the stored bytes, it fetches nothing)."""

from __future__ import annotations

import base64
import uuid

import pytest
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import Direction, Message, Request
from tests.factories import wait_until

API = "/api/v1"
RFC822 = "message/rfc822"
EMAIL_TOML = """
[[connectors]]
name = "tp-mail"
channel = "email"
imap_host = "127.0.0.1"
imap_port = 9
imap_security = "none"
username = "service@tp.example"
password = "not-used-by-a-retry"
smtp_host = "127.0.0.1"
smtp_port = 9
smtp_security = "none"
from_address = "TP官方客服 <service@tp.example>"
"""


@pytest.fixture
def mail_desk(configure):
    """The config file with `tp-mail`, written before `client` builds the app (it reads it once)."""
    return configure(EMAIL_TOML)


@pytest.fixture
def desk(mail_desk, worker, client, people):
    """The API with the `tp-mail` connector, a worker, and the desk's people."""
    return client, people


def mail(sender: str | None = "li.na@example.cn", attachment: bytes | None = None) -> bytes:
    """A customer's mail (no From when `sender` is None), optionally with a PNG attached."""
    head = f"From: Li Na <{sender}>\r\n" if sender else ""
    message_id = f"<{uuid.uuid4().hex}@example.cn>"
    head += f"To: service@tp.example\r\nSubject: 退货\r\nMessage-ID: {message_id}\r\n"
    head += "MIME-Version: 1.0\r\n"
    text = "我想退货，订单 1234567890。\r\n"
    if attachment is None:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text).encode()
    body = (
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}--b1\r\n"
        'Content-Type: image/png\r\nContent-Disposition: attachment; filename="box.png"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(attachment).decode().replace("\n", "\r\n")
        + "--b1--\r\n"
    )
    return (head + body).encode()


def hold(client, raw: bytes, reason: str = "parser_failed: IndexError: list index out of range"):
    """Quarantine the bytes as the poller does when it cannot read a mail."""
    return client.app.state.intake.quarantine("tp-mail", raw, RFC822, reason)


def retry(client, people, held: int, role: str = "admin"):
    return client.post(f"{API}/quarantine/{held}/retry", headers=people[role].auth)


def inbound(settings) -> list[Message]:
    with unit_of_work(settings) as session:
        rows = session.exec(select(Message).where(Message.direction == Direction.INBOUND))
        found = list(rows)
        for row in found:
            session.expunge(row)
        return found


def audit_actions(client, people) -> list[tuple[str, str]]:
    page = client.get(f"{API}/audit?target_type=quarantine", headers=people["admin"].auth).json()
    return [(item["action"], item["actor"]) for item in page["items"]]


def test_a_held_mail_becomes_a_request_when_retried(desk, settings):
    client, people = desk
    held = hold(client, mail())

    response = retry(client, people, held)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "retried"
    message_id = response.json()["message_id"]
    [message] = inbound(settings)
    assert (message.id, message.sender, message.subject) == (message_id, "li.na@example.cn", "退货")

    def request_of_message():
        with unit_of_work(settings) as session:
            found = session.get(Message, message_id)
            return found.request_id and session.get(Request, found.request_id).channel

    assert wait_until(request_of_message) == "email"
    assert audit_actions(client, people) == [("quarantine_retried", "admin")]


def test_retrying_twice_makes_one_message(desk, settings):
    client, people = desk
    held = hold(client, mail())

    first = retry(client, people, held)
    second = retry(client, people, held)

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["errors"] == {"base": "already_retried"}
    assert [m.id for m in inbound(settings)] == [first.json()["message_id"]]
    assert audit_actions(client, people) == [("quarantine_retried", "admin")]


def test_a_payload_whose_message_exists_settles_on_that_message(desk, settings):
    # Given a mail that was stored, and its bytes also held (fetched twice, failed once)
    client, people = desk
    raw = mail()
    connector = client.app.state.desk.connector("tp-mail")
    stored = client.app.state.intake.accept(connector.reparse(raw, RFC822), raw, RFC822)
    held = hold(client, raw)

    response = retry(client, people, held)

    assert response.status_code == 200
    assert response.json()["message_id"] == stored.message_id
    assert [m.id for m in inbound(settings)] == [stored.message_id]


def test_a_mail_that_still_fails_stays_held_with_the_new_reason(desk, settings):
    client, people = desk
    held = hold(client, mail(sender=None), reason="parser_failed: an old bug")

    response = retry(client, people, held)

    assert response.status_code == 422
    assert response.json()["errors"] == {"base": "still_unreadable"}
    assert "no_sender" in response.json()["detail"]
    shown = client.get(f"{API}/quarantine/{held}", headers=people["admin"].auth).json()
    assert shown["status"] == "held"
    assert shown["reason"].startswith("no_sender")
    assert inbound(settings) == []
    assert audit_actions(client, people) == [("quarantine_retry_failed", "admin")]


def test_a_retried_payload_can_no_longer_be_discarded_and_a_discarded_one_not_retried(desk):
    client, people = desk
    retried, discarded = hold(client, mail()), hold(client, mail())
    retry(client, people, retried)
    client.post(f"{API}/quarantine/{discarded}/discard", headers=people["admin"].auth)

    late_discard = client.post(f"{API}/quarantine/{retried}/discard", headers=people["admin"].auth)
    late_retry = retry(client, people, discarded)

    assert late_discard.json()["errors"] == {"base": "already_retried"}
    assert late_retry.json()["errors"] == {"base": "already_discarded"}
    assert (late_discard.status_code, late_retry.status_code) == (409, 409)


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_only_admins_retry(desk, settings, role):
    client, people = desk
    held = hold(client, mail())

    response = retry(client, people, held, role)

    assert response.status_code == 403
    assert inbound(settings) == []


def test_the_retry_reads_with_the_connectors_current_settings(desk, settings):
    # Given a console mailbox whose attachment limit (1 MB) is below a held mail's picture
    client, people = desk
    admin = people["admin"].auth
    created = client.post(
        f"{API}/admin/connectors",
        params={"skip_check": "true"},
        headers=admin,
        json={
            "name": "console-mail",
            "channel": "email",
            "imap_host": "127.0.0.1",
            "imap_security": "none",
            "username": "shop@tp.example",
            "password": "not-used",
            "smtp_host": "127.0.0.1",
            "smtp_security": "none",
            "from_address": "shop@tp.example",
            "max_attachment_mb": 1,
        },
    )
    assert created.status_code == 201, created.text
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 6000  # about 1.5 MB
    raw = mail(attachment=picture)
    held = client.app.state.intake.quarantine("console-mail", raw, RFC822, "parser_failed: x")

    # When the admin raises the limit, then retries
    raised = client.put(
        f"{API}/admin/connectors/console-mail",
        params={"skip_check": "true"},
        headers=admin,
        json={"max_attachment_mb": 2},
    )
    assert raised.status_code == 200, raised.text
    response = retry(client, people, held)

    # Then the picture was kept, and an agent's browser can fetch it
    assert response.status_code == 200, response.text
    message_id = response.json()["message_id"]
    [message] = inbound(settings)
    assert message.attachments[0]["storage_key"] is not None
    fetched = client.get(f"{API}/messages/{message_id}/attachments/0", headers=admin)
    assert fetched.status_code == 200
    assert fetched.content == picture
