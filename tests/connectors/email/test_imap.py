"""The IMAP poller against a real Dovecot: UID bookkeeping, PEEK, \\Seen or MOVE after commit,
UIDVALIDITY changes, quarantine, crashes at every step, IDLE, polling, reconnects, backfill."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from connectors.email.connector import EmailConnector
from connectors.email.imap import ImapPoller, Mailbox, plan_batches
from connectors.email.threading import message_ids
from omnidesk.db import get_engine
from omnidesk.desk import Desk
from omnidesk.models import ConnectorRecord, ConnectorState, Direction, Message, QuarantinedPayload
from omnidesk.models.mailbox import MailboxState
from omnidesk.services.intake import DeskIntake
from omnidesk.services.mail import DeskMailboxBook
from omnidesk.services.pipeline import NullDispatcher
from omnidesk.settings import Settings
from tests.factories import wait_until
from tests.servers.dovecot import DovecotServer, dovecot_server

pytestmark = pytest.mark.slow

USER = "service@tp.example"
DATA = Path(__file__).resolve().parents[2] / "data" / "email"


class Killed(BaseException):
    """The poller process dies at this point (nothing after it runs, no handler catches it)."""


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    with dovecot_server(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


# --- helpers (tests/workers/test_email_flow.py uses them too) ---------------------------------


def email_toml(dovecot: DovecotServer, *, folder: str, smtp_port: int = 25, **extra: object) -> str:
    """A `[[connectors]]` table for `tp-mail` on the test Dovecot (plain IMAP on loopback)."""
    values: dict[str, object] = {
        "name": "tp-mail",
        "channel": "email",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "username": USER,
        "password": dovecot.users[USER],
        "folder": folder,
        "processed_folder": "",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "from_address": "TP官方客服 <service@tp.example>",
        "poll_interval": 0.2,
    }
    values.update(extra)
    lines = [f"{key} = {_toml(value)}" for key, value in values.items()]
    return "[[connectors]]\n" + "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def plain_mail(n: int, subject: str = "订单查询", sender: str | None = None) -> bytes:
    sender = sender or f"customer{n}@example.cn"
    return (
        f"From: Customer {n} <{sender}>\r\nTo: {USER}\r\nSubject: {subject} {n}\r\n"
        f"Message-ID: <m{n}.{uuid.uuid4().hex}@example.cn>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"您好，我的订单 {n} 还没有到。\r\n"
    ).encode()


def message_id_of(raw: bytes) -> str:
    header = raw.split(b"Message-ID:", 1)[1].split(b"\r\n", 1)[0].decode()
    return message_ids(header)[0]


def corpus(name: str) -> bytes:
    return (DATA / name).read_bytes()


@dataclass
class Box:
    """One test's folder on the shared Dovecot."""

    dovecot: DovecotServer
    folder: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")

    def create(self) -> Box:
        with self.dovecot.client() as imap:
            imap.create_folder(self.folder)
        return self

    def append(self, raw: bytes, flags: tuple[str, ...] = (), folder: str | None = None) -> int:
        return self.dovecot.append(USER, raw, folder=folder or self.folder, flags=flags)

    def uids(self, folder: str | None = None) -> list[int]:
        with self.dovecot.client() as imap:
            imap.select_folder(folder or self.folder, readonly=True)
            return sorted(imap.search(["ALL"]))

    def seen(self) -> list[int]:
        with self.dovecot.client() as imap:
            imap.select_folder(self.folder, readonly=True)
            return sorted(imap.search(["SEEN"]))


def inbound(settings: Settings) -> list[Message]:
    with Session(get_engine(settings)) as session:
        stmt = select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id)
        return list(session.exec(stmt))


def quarantined(settings: Settings) -> list[QuarantinedPayload]:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(QuarantinedPayload)))


@dataclass
class Rig:
    """A desk with the `tp-mail` connector on the test's folder, and a way to build pollers."""

    settings: Settings
    box: Box
    desk: Desk

    @property
    def connector(self) -> EmailConnector:
        return self.desk.connector("tp-mail")  # type: ignore[return-value]

    def poller(
        self, observer: Callable[[str, int], None] | None = None, **config: object
    ) -> ImapPoller:
        connector = self.connector
        if config:
            changed = type(connector.config).model_validate({**dict(connector.config), **config})
            connector = EmailConnector(changed, connector.env)
        intake = DeskIntake(self.desk, NullDispatcher(), background=False)
        book = DeskMailboxBook(self.desk)
        return ImapPoller(
            connector.config, book, connector.importer(intake, book), observer, backoff=(0.05, 0.3)
        )

    def sync(self, observer: Callable[[str, int], None] | None = None, **config: object) -> int:
        poller = self.poller(observer, **config)
        mailbox = poller.mailbox_class.open(poller.config)
        try:
            return poller.sync(mailbox)
        finally:
            mailbox.close()


@pytest.fixture
def rig(configure: Callable[[str], Settings], dovecot: DovecotServer) -> Rig:
    box = Box(dovecot).create()
    settings = configure(email_toml(dovecot, folder=box.folder))
    return Rig(settings, box, Desk.load(settings))


def die_at(event: str, nth: int) -> Callable[[str, int], None]:
    seen: list[int] = []

    def observe(name: str, uid: int) -> None:
        if name == event:
            seen.append(uid)
            if len(seen) == nth:
                raise Killed(f"killed at {event} of uid {uid}")

    return observe


def recorder() -> tuple[list[tuple[str, int]], Callable[[str, int], None]]:
    calls: list[tuple[str, int]] = []
    return calls, lambda name, value: calls.append((name, value))


def ids(settings: Settings) -> list[str]:
    return sorted(m.provider_message_id or "" for m in inbound(settings))


# --- import, PEEK, \Seen and MOVE --------------------------------------------------------------


def test_new_mail_is_stored_before_it_is_flagged_seen(rig: Rig) -> None:
    uid = rig.box.append(plain_mail(1))
    flags_when_fetched: list[list[int]] = []

    def observe(name: str, _uid: int) -> None:
        if name == "stored":
            flags_when_fetched.append(rig.box.seen())

    assert rig.sync(observe) == 1

    # BODY.PEEK left it unread while it was stored; \Seen came after the commit.
    assert flags_when_fetched == [[]]
    assert rig.box.seen() == [uid]
    [message] = inbound(rig.settings)
    assert message.subject == "订单查询 1"
    assert message.text.startswith("您好")


def test_a_restart_fetches_only_the_mail_that_arrived_since(rig: Rig) -> None:
    first = [rig.box.append(plain_mail(n)) for n in range(3)]
    assert rig.sync() == 3
    later = rig.box.append(plain_mail(9))

    calls, observe = recorder()
    assert rig.sync(observe) == 1
    assert [uid for name, uid in calls if name == "fetched"] == [later]
    assert later > max(first)
    assert len(inbound(rig.settings)) == 4


def test_a_search_above_the_highest_uid_imports_nothing_again(rig: Rig) -> None:
    rig.box.append(plain_mail(1))
    assert rig.sync() == 1
    # UID SEARCH UID 2:* still matches message 1 (RFC 3501 6.4.4): the filter drops it.
    assert rig.sync() == 0
    assert len(inbound(rig.settings)) == 1


def test_first_import_takes_unread_mail_only_and_later_mail_even_if_read(rig: Rig) -> None:
    rig.box.append(plain_mail(1), flags=("\\Seen",))
    rig.box.append(plain_mail(2))
    assert rig.sync() == 1
    assert [m.subject for m in inbound(rig.settings)] == ["订单查询 2"]

    # After the first import the UID decides: mail read elsewhere first is still new to us.
    rig.box.append(plain_mail(3), flags=("\\Seen",))
    assert rig.sync() == 1
    assert [m.subject for m in inbound(rig.settings)] == ["订单查询 2", "订单查询 3"]


def test_processed_mail_is_moved_to_the_processed_folder_after_commit(rig: Rig) -> None:
    done = f"{rig.box.folder}-done"
    rig.box.append(plain_mail(1))
    in_folder_when_stored: list[list[int]] = []

    def observe(name: str, _uid: int) -> None:
        if name == "stored":
            in_folder_when_stored.append(rig.box.uids())

    assert rig.sync(observe, processed_folder=done) == 1

    assert in_folder_when_stored == [[1]]
    assert rig.box.uids() == []
    assert len(rig.box.uids(done)) == 1


def test_without_move_mail_is_copied_and_expunged_by_uid_only(rig: Rig) -> None:
    done = f"{rig.box.folder}-done"
    others = rig.box.append(plain_mail(1), flags=("\\Seen", "\\Deleted"))  # another client's
    ours = rig.box.append(plain_mail(2))

    class NoMove(Mailbox):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[arg-type]
            self.capabilities.discard("MOVE")

    poller = rig.poller(processed_folder=done)
    poller.mailbox_class = NoMove
    mailbox = NoMove.open(poller.config)
    try:
        assert poller.sync(mailbox) == 1
    finally:
        mailbox.close()

    # UID EXPUNGE (UIDPLUS) removed ours; a bare EXPUNGE would have taken the other one too.
    assert rig.box.uids() == [others]
    assert ours not in rig.box.uids()
    assert len(rig.box.uids(done)) == 1


def test_fetches_come_in_batches_of_batch_size(rig: Rig) -> None:
    for n in range(5):
        rig.box.append(plain_mail(n))
    calls, observe = recorder()

    assert rig.sync(observe, batch_size=2) == 5

    # Each batch is stored in full, then finished, before the next is fetched.
    steps = "".join(name[0] for name, _ in calls if name in ("stored", "finished"))
    assert steps == "ssffssffsf"


def test_batches_are_cut_by_count_and_by_bytes() -> None:
    sizes = {1: 10, 2: 10, 3: 50, 4: 10, 6: 5}
    assert plan_batches([1, 2, 3, 4, 5, 6], sizes, max_count=2, max_bytes=60) == [
        [1, 2],
        [3, 4],
        [6],
    ]
    assert plan_batches([1, 2, 3], sizes, max_count=10, max_bytes=15) == [[1], [2], [3]]
    assert plan_batches([], {}, 5, 5) == []


# --- UIDVALIDITY -------------------------------------------------------------------------------


def test_changed_uidvalidity_rescans_by_message_id_without_duplicates(rig: Rig) -> None:
    mails = [plain_mail(n) for n in range(3)]
    for raw in mails:
        rig.box.append(raw)
    assert rig.sync() == 3
    before = MailboxState
    with Session(get_engine(rig.settings)) as session:
        old = session.exec(select(before)).one()

    # The folder is recreated (as after a server migration): new UIDVALIDITY, UIDs from 1 again.
    with rig.box.dovecot.client() as imap:
        imap.delete_folder(rig.box.folder)
        imap.create_folder(rig.box.folder)
    for raw in [*mails, plain_mail(7)]:
        rig.box.append(raw)

    assert rig.sync() == 1
    assert len(inbound(rig.settings)) == 4
    with Session(get_engine(rig.settings)) as session:
        new = session.exec(select(MailboxState)).one()
    assert new.uidvalidity != old.uidvalidity
    assert new.last_uid == 4
    assert rig.box.seen() == [1, 2, 3, 4]
    assert rig.sync() == 0


# --- bad mail ----------------------------------------------------------------------------------


def test_unreadable_mail_is_quarantined_once_and_the_mailbox_moves_on(rig: Rig) -> None:
    bad = rig.box.append(corpus("garbage__not_a_mail.eml"))
    good = rig.box.append(plain_mail(2))

    # Killed after the quarantine committed but before the mail was flagged.
    with pytest.raises(Killed):
        rig.sync(die_at("stored", 1))
    assert rig.sync() == 2

    [held] = quarantined(rig.settings)
    assert held.reason.startswith("not_a_mail")
    assert [m.subject for m in inbound(rig.settings)] == ["订单查询 2"]
    assert rig.box.seen() == [bad, good]


# --- crashes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["fetched", "stored", "finished"])
def test_poller_killed_at_any_step_imports_every_mail_once_after_restart(
    rig: Rig, step: str
) -> None:
    mails = [plain_mail(n) for n in range(5)]
    for raw in mails:
        rig.box.append(raw)
    with pytest.raises(Killed):
        rig.sync(die_at(step, 3), batch_size=2)

    rig.sync()

    assert ids(rig.settings) == sorted(message_id_of(raw) for raw in mails)
    assert rig.box.seen() == rig.box.uids()


# --- waiting for mail --------------------------------------------------------------------------


@dataclass
class Running:
    thread: threading.Thread
    stop: threading.Event

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def running(poller: ImapPoller) -> Running:
    stop = threading.Event()
    return Running(threading.Thread(target=poller.run, args=(stop.is_set,), daemon=True), stop)


def test_idle_push_brings_new_mail_in_at_once(rig: Rig) -> None:
    # Polling is slowed to an hour: only the IDLE push can bring the mail in this quickly.
    with running(rig.poller(poll_interval=3600)):
        wait_until(lambda: rig.box.seen() == [] and _ready(rig.settings), timeout=10)
        rig.box.append(plain_mail(1))
        wait_until(lambda: len(inbound(rig.settings)) == 1, timeout=5)


def test_mail_arriving_during_a_round_is_not_left_waiting_for_the_idle_timeout(rig: Rig) -> None:
    rig.box.append(plain_mail(1))
    appended: list[int] = []

    def observe(name: str, _uid: int) -> None:
        if name == "stored" and not appended:
            # Dovecot announces this one during the round, so IDLE will not announce it again.
            appended.append(rig.box.append(plain_mail(2)))

    with running(rig.poller(observe)):
        wait_until(lambda: len(inbound(rig.settings)) == 2, timeout=5)


def test_a_server_without_idle_is_polled(rig: Rig) -> None:
    class NoIdle(Mailbox):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[arg-type]
            self.capabilities.discard("IDLE")

    poller = rig.poller(poll_interval=0.2)
    poller.mailbox_class = NoIdle
    with running(poller):
        wait_until(lambda: _ready(rig.settings), timeout=10)
        rig.box.append(plain_mail(1))
        wait_until(lambda: len(inbound(rig.settings)) == 1, timeout=5)


@pytest.fixture
def lone_rig(configure: Callable[[str], Settings], tmp_path: Path) -> Iterator[Rig]:
    """A Dovecot of the test's own: to restart it, or to fail logins on it (Dovecot then slows
    every login from the address for a while, which would slow the other tests)."""
    with dovecot_server(tmp_path / "own") as own:
        settings = configure(email_toml(own, folder="INBOX"))
        yield Rig(settings, Box(own, folder="INBOX"), Desk.load(settings))


def test_poller_reconnects_after_the_server_restarts(lone_rig: Rig) -> None:
    settings = lone_rig.settings
    with running(lone_rig.poller()):
        lone_rig.box.append(plain_mail(1))
        wait_until(lambda: len(inbound(settings)) == 1, timeout=10)
        lone_rig.box.dovecot.restart()
        lone_rig.box.append(plain_mail(2))
        wait_until(lambda: len(inbound(settings)) == 2, timeout=20)


def test_refused_password_puts_the_connector_in_needs_reauth(lone_rig: Rig) -> None:
    with running(lone_rig.poller(password="wrong")):
        wait_until(lambda: _state(lone_rig.settings) == ConnectorState.NEEDS_REAUTH, timeout=10)
    with Session(get_engine(lone_rig.settings)) as session:
        record = session.exec(select(ConnectorRecord)).one()
    assert "refused the login" in (record.state_reason or "")


def _state(settings: Settings) -> ConnectorState | None:
    with Session(get_engine(settings)) as session:
        record = session.exec(select(ConnectorRecord)).first()
        return record.state if record else None


def _ready(settings: Settings) -> bool:
    with Session(get_engine(settings)) as session:
        return session.exec(select(MailboxState)).first() is not None


# --- backfill ----------------------------------------------------------------------------------


def test_backfill_imports_history_once_and_leaves_the_mailbox_as_it_was(rig: Rig) -> None:
    rig.box.append(plain_mail(1), flags=("\\Seen",))
    rig.box.append(plain_mail(2))
    rig.box.append(corpus("no_message_id.eml"))
    intake = DeskIntake(rig.desk, NullDispatcher(), background=False)
    book = DeskMailboxBook(rig.desk)
    calls, observe = recorder()

    since = date.today() - timedelta(days=1)
    assert rig.connector.backfill(intake, book, since, observe) == 3
    assert rig.connector.backfill(intake, book, since) == 1  # no Message-ID: dedupe by digest

    assert len(inbound(rig.settings)) == 3
    assert calls[0] == ("found", 3)
    assert len(calls) == 4
    assert rig.box.seen() == [1]
    assert _ready(rig.settings) is False  # the poller's place is untouched


def test_email_import_command_shows_progress_and_is_safe_to_run_twice(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omnidesk.cli_email import email_app
    from omnidesk.settings import get_settings

    for n in range(3):
        rig.box.append(plain_mail(n))
    s = rig.settings
    env = {
        "DATABASE_URL": s.resolved_database_url,
        "REDIS_URL": s.redis_url or "",
        "CONFIG": str(s.config),
        "DATA_DIR": str(s.data_dir),
        "LOG_FORMAT": "console",
    }
    for key, value in env.items():
        monkeypatch.setenv(f"OMNIDESK_{key}", value)
    get_settings.cache_clear()
    try:
        since = (date.today() - timedelta(days=1)).isoformat()
        first = CliRunner().invoke(email_app, ["import", "tp-mail", "--since", since])
        second = CliRunner().invoke(email_app, ["import", "tp-mail", "--since", since])
        unknown = CliRunner().invoke(email_app, ["import", "nope", "--since", since])
    finally:
        get_settings.cache_clear()

    assert first.exit_code == 0, first.output
    assert "3 mails imported" in first.output
    assert "0 mails imported" in second.output
    assert unknown.exit_code == 2
    assert "no connector named 'nope'" in unknown.output
    assert len(inbound(rig.settings)) == 3
