"""Email end to end: real Dovecot, aiosmtpd, Redis, the database and a Dramatiq worker.

A GBK mail becomes a request, the acknowledgement and the agent's reply go out threaded, and
the customer's answer joins the request; a poller killed between fetch and commit, and two
pollers on one mailbox, still import each mail once; auto-replies and bounces open nothing.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlmodel import Session, select

from connectors.email.threading import message_ids
from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.models import DeliveryStatus, Direction, Event, Message, Request, Stage
from omnidesk.services import respond
from omnidesk.settings import Settings
from tests.connectors.email.test_imap import Box, email_toml, plain_mail
from tests.factories import wait_until
from tests.servers.dovecot import DovecotServer, dovecot_server
from tests.servers.smtp import ReceivedMail, SmtpServer, smtp_server
from workers.pollers import Lease, MailboxPollers

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data" / "email"
CUSTOMER = "zhaolei1987@sina.com"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    with dovecot_server(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture
def box(dovecot: DovecotServer) -> Box:
    return Box(dovecot).create()


@pytest.fixture
def mail_desk(configure: Callable[[str], Settings], box: Box, smtp: SmtpServer) -> Settings:
    """A desk whose `tp-mail` connector reads the test's folder and sends through aiosmtpd."""
    smtp.messages.clear()
    return configure(email_toml(box.dovecot, folder=box.folder, smtp_port=smtp.port))


def start_pollers(settings: Settings, lease_ttl: float = 1.0, **options: object) -> MailboxPollers:
    """The pollers `omnidesk worker` runs, as another machine would: its own desk and client."""
    assert settings.redis_url
    pollers = MailboxPollers.for_desk(Desk.load(settings), settings.redis_url, lease_ttl=lease_ttl)
    for poller in pollers.pollers:
        poller.poll_options.update(options)
    return pollers.start()


@pytest.fixture
def pollers(mail_desk: Settings, worker: object) -> Iterator[MailboxPollers]:
    running = start_pollers(mail_desk)
    yield running
    running.stop()


def inbound(settings: Settings) -> list[Message]:
    with Session(get_engine(settings)) as session:
        stmt = select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id)
        return list(session.exec(stmt))


def outbound(settings: Settings) -> list[Message]:
    with Session(get_engine(settings)) as session:
        stmt = select(Message).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
        return list(session.exec(stmt))


def requests(settings: Settings) -> list[Request]:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(Request).order_by(Request.id)))


def events(settings: Settings, kind: str) -> list[Event]:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(Event).where(Event.kind == kind)))


def all_done(settings: Settings, count: int) -> bool:
    messages = inbound(settings)
    return len(messages) == count and all(m.stage == Stage.DONE for m in messages)


def sent_settled(settings: Settings) -> bool:
    return all(
        m.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING) for m in outbound(settings)
    )


def gbk_header(text: str) -> str:
    return f"=?GBK?B?{base64.b64encode(text.encode('gbk')).decode()}?="


def customer_reply(request_id: int, parent: ReceivedMail, original_id: str) -> bytes:
    """The customer answers our mail from a GBK mailer (Sina), threaded by its headers."""
    parent_id = parent.parsed["Message-ID"]
    body = "你好，快递公司说包裹放在门卫室了，我去看看。\r\n".encode("gbk")
    return (
        f"From: {gbk_header('赵磊')} <{CUSTOMER}>\r\nTo: service@tp.example\r\n"
        f"Subject: {gbk_header(f'回复：快递显示已签收但没收到货 [#{request_id}]')}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@webmail.sina.com>\r\n"
        f"In-Reply-To: {parent_id}\r\nReferences: <{original_id}> {parent_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=GBK\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + body


def dsn(bounced: ReceivedMail) -> bytes:
    """The RFC 3464 report a receiving server sends back for a mail it could not deliver."""
    headers = b"".join(
        f"{name}: {bounced.parsed[name]}\r\n".encode() for name in ("To", "Subject", "Message-ID")
    )
    return (
        (
            "From: Mail Delivery System <MAILER-DAEMON@mx.sina.com>\r\n"
            "To: service@tp.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Message-ID: <dsn.{uuid.uuid4().hex}@mx.sina.com>\r\nAuto-Submitted: auto-replied\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B0"\r\n\r\n'
            "--B0\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
            "--B0\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.sina.com\r\n\r\n"
            f"Final-Recipient: rfc822; {CUSTOMER}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{CUSTOMER}>: Recipient address rejected\r\n\r\n"
            "--B0\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        ).encode()
        + headers
        + b"\r\n--B0--\r\n"
    )


# --- the "done when" cases ---------------------------------------------------------------------


def test_gbk_mail_becomes_a_request_answered_threaded_and_the_reply_joins_it(
    mail_desk: Settings, box: Box, smtp: SmtpServer, pollers: MailboxPollers
) -> None:
    # Given a customer's mail in GBK with an encoded-word subject
    box.append((DATA / "gbk_body__encoded_subject.eml").read_bytes())
    original_id = "20240306010541.6B2A1C0E4@webmail.sina.com"

    # Then it becomes a request that reads correctly, acknowledged in its thread
    [ack] = smtp.wait_for_messages(1, timeout=20)
    [request] = requests(mail_desk)
    [first] = inbound(mail_desk)
    assert request.subject == "快递显示已签收但没收到货"
    assert first.text.startswith("客服您好：")
    assert "TP20240304011265" in first.text
    assert first.sender_name == "赵磊"
    assert ack.rcpt_tos == [CUSTOMER]
    assert ack.mail_from == "<>"
    assert ack.parsed["Subject"] == f"Re: 快递显示已签收但没收到货 [#{request.id}]"
    assert ack.parsed["In-Reply-To"] == f"<{original_id}>"
    assert ack.parsed["Auto-Submitted"] == "auto-replied"

    # When an agent replies
    with unit_of_work(mail_desk) as session:
        message = session.get(Message, first.id)
        reply = respond.queue_reply(
            session,
            session.get(Request, request.id),
            message,  # type: ignore[arg-type]
            "您好，我们已联系快递公司核实，请稍候。",
            kind="reply",
            author="agent:xiaoli",
        )
    from workers.dispatch import DramatiqDispatcher

    DramatiqDispatcher().dispatch("send", reply.id)  # type: ignore[arg-type]

    # Then it reaches the SMTP server threaded, from our address, with the tag
    agent = smtp.wait_for_messages(2, timeout=20)[1]
    assert agent.mail_from == "service@tp.example"
    assert agent.parsed["In-Reply-To"] == f"<{original_id}>"
    assert message_ids(agent.parsed["References"]) == (original_id,)
    assert agent.parsed["Subject"] == f"Re: 快递显示已签收但没收到货 [#{request.id}]"
    assert agent.parsed["Auto-Submitted"] is None
    assert "已联系快递公司" in agent.parsed.get_body(("plain",)).get_content()
    wait_until(lambda: outbound(mail_desk)[-1].status == DeliveryStatus.SENT)
    assert outbound(mail_desk)[-1].provider_message_id == agent.parsed["Message-ID"].strip("<>")

    # When the customer answers the agent's mail
    box.append(customer_reply(request.id, agent, original_id))  # type: ignore[arg-type]

    # Then the answer joins the same request through its thread headers, and nobody is re-acked
    wait_until(lambda: all_done(mail_desk, 2), timeout=20)
    assert len(requests(mail_desk)) == 1
    second = inbound(mail_desk)[1]
    assert second.request_id == request.id
    assert second.text.startswith("你好，快递公司说包裹放在门卫室了")
    attached = events(mail_desk, "message_attached")
    assert [(e.message_id, e.data["how"]) for e in attached] == [(second.id, "thread")]
    time.sleep(0.5)
    assert len(smtp.messages) == 2


def test_auto_replies_and_a_bounce_open_no_request_and_get_no_reply(
    mail_desk: Settings, box: Box, smtp: SmtpServer, pollers: MailboxPollers
) -> None:
    box.append(plain_mail(1, sender=CUSTOMER))
    [ack] = smtp.wait_for_messages(1, timeout=20)
    wait_until(lambda: sent_settled(mail_desk) and all_done(mail_desk, 1))

    # When automatic mail arrives: auto-replies, an out-of-office, a list, a newsletter, and the
    # receiving server's report that our acknowledgement could not be delivered
    noise = [
        "auto_reply__auto_submitted.eml",
        "auto_reply__x_autoreply_qq.eml",
        "out_of_office__outlook_zh.eml",
        "list_mail__list_id.eml",
        "precedence_bulk__newsletter.eml",
        "auto_notice__noreply_sender.eml",
    ]
    for name in noise:
        box.append((DATA / name).read_bytes())
    box.append(dsn(ack))

    # Then it is all stored, nothing opens a request, nothing is answered
    wait_until(lambda: all_done(mail_desk, 1 + len(noise) + 1), timeout=30)
    assert len(requests(mail_desk)) == 1
    assert len(events(mail_desk, "automatic_ignored")) == len(noise) + 1
    time.sleep(0.5)
    assert len(smtp.messages) == 1
    # And the bounce marks the acknowledgement failed with the server's reason
    [ours] = outbound(mail_desk)
    assert ours.status == DeliveryStatus.FAILED
    assert ours.error_code == "5.1.1"
    assert "Recipient address rejected" in (ours.error_reason or "")
    assert [e.message_id for e in events(mail_desk, "reply_failed")] == [ours.id]


def _child_env(settings: Settings, kill_at: int) -> dict[str, str]:
    return {
        **os.environ,
        "OMNIDESK_DATABASE_URL": settings.resolved_database_url,
        "OMNIDESK_REDIS_URL": settings.redis_url or "",
        "OMNIDESK_CONFIG": str(settings.config),
        "OMNIDESK_DATA_DIR": str(settings.data_dir),
        "OMNIDESK_LOG_FORMAT": "json",
        "KILL_AT": str(kill_at),
    }


# A poller process that dies by SIGKILL right after fetching its third mail, before storing it.
POLLER_PROCESS = """
import os, signal, time
from omnidesk.desk import Desk
from omnidesk.settings import Settings
from workers.broker import build_broker, install
from workers.pollers import MailboxPollers

settings = Settings()
install(build_broker(settings, settings.redis_url))
fetched = []

def observe(event, uid):
    if event == "fetched":
        fetched.append(uid)
        if len(fetched) == int(os.environ["KILL_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)

pollers = MailboxPollers.for_desk(Desk.load(settings), settings.redis_url, lease_ttl=2.0)
for poller in pollers.pollers:
    poller.poll_options["observer"] = observe
pollers.start()
time.sleep(60)
"""


def test_poller_killed_between_fetch_and_commit_imports_every_mail_once_after_restart(
    mail_desk: Settings, box: Box, smtp: SmtpServer, worker: object, tmp_path: Path
) -> None:
    from workers.schedule import sweep_stuck

    mails = [plain_mail(n) for n in range(6)]
    for raw in mails:
        box.append(raw)

    # When the poller process is killed after fetching the third mail, before storing it
    with open(tmp_path / "poller.log", "wb") as log:
        child = subprocess.run(
            [sys.executable, "-c", POLLER_PROCESS],
            env=_child_env(mail_desk, 3),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
        )
    assert child.returncode == -signal.SIGKILL
    assert len(inbound(mail_desk)) == 2
    assert box.seen() == []

    # And a poller starts again (after the dead one's lease expired)
    restarted = start_pollers(mail_desk)
    try:

        def settled() -> bool:
            sweep_stuck.send()  # the dead process may have lost its enqueues
            return all_done(mail_desk, 6) and len(smtp.messages) == 6 and sent_settled(mail_desk)

        wait_until(settled, timeout=40, interval=0.5)
    finally:
        restarted.stop()

    # Then every mail is stored once, flagged once processed, and acknowledged once
    assert len({m.provider_message_id for m in inbound(mail_desk)}) == 6
    assert box.seen() == box.uids()
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(
        f"customer{n}@example.cn" for n in range(6)
    )


def test_two_pollers_on_one_mailbox_import_each_mail_once(
    mail_desk: Settings, box: Box, smtp: SmtpServer, worker: object
) -> None:
    stored: list[tuple[str, int]] = []

    def recorder(machine: str) -> Callable[[str, int], None]:
        def observe(event: str, uid: int) -> None:
            if event == "stored":
                stored.append((machine, uid))

        return observe

    first_mails = [box.append(plain_mail(n)) for n in range(6)]

    # Two worker machines, each running a poller for the same mailbox
    machines = [
        start_pollers(mail_desk, lease_ttl=5.0, observer=recorder(name)) for name in ("a", "b")
    ]
    try:
        later = [box.append(plain_mail(n)) for n in range(6, 10)]
        wait_until(lambda: all_done(mail_desk, 10) and len(smtp.messages) == 10, timeout=40)
        # The holder leaves (its machine shuts down): the other one takes the mailbox over
        holder = machines[0] if stored[0][0] == "a" else machines[1]
        holder.stop()
        last = box.append(plain_mail(10))
        wait_until(lambda: all_done(mail_desk, 11), timeout=20)
    finally:
        for machine in machines:
            machine.stop()

    counts = Counter(uid for _machine, uid in stored)
    assert sorted(counts) == [*first_mails, *later, last]
    assert set(counts.values()) == {1}
    assert len({machine for machine, uid in stored if uid != last}) == 1
    assert stored[-1][0] != stored[0][0]
    assert len({m.provider_message_id for m in inbound(mail_desk)}) == 11


# --- the lease ---------------------------------------------------------------------------------


def test_lease_is_held_while_renewed_and_taken_over_once_its_holder_stops_renewing(
    settings: Settings,
) -> None:
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url)
    holder, other = (
        Lease(client, "omnidesk:test:lease", 0.5),
        Lease(client, "omnidesk:test:lease", 0.5),
    )

    assert holder.acquire()
    assert not other.acquire()
    for _ in range(3):
        time.sleep(0.25)
        assert holder.renew()
    assert not other.acquire()

    # The holder dies: it renews no more, and the lease expires
    time.sleep(0.6)
    assert other.acquire()
    assert not holder.renew()
    holder.release()  # a late release does not free someone else's lease
    assert client.get("omnidesk:test:lease") == other.token.encode()
    other.release()
    assert client.get("omnidesk:test:lease") is None
