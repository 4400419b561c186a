"""Mailboxes made in the admin console are polled without restarting the worker: the pollers
follow the registry (start, restart with new settings, stop) against the real Dovecot, with
Redis, the database and a Dramatiq worker. The console (an API process) and the worker's
pollers each have their own desk, as on two machines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlmodel import Session, select

from omnidesk.db import get_engine
from omnidesk.desk import Desk
from omnidesk.models import Message, Request
from omnidesk.services import connector_admin
from omnidesk.settings import Settings
from tests.connectors.email.test_imap import USER, Box, plain_mail
from tests.factories import wait_until
from tests.servers.dovecot import DovecotServer, dovecot_server
from workers.pollers import MailboxPollers, lease_key

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    with dovecot_server(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


@pytest.fixture
def box(dovecot: DovecotServer) -> Box:
    return Box(dovecot).create()


@pytest.fixture
def console(settings: Settings) -> Desk:
    """The admin console's desk (the API process's)."""
    return Desk.load(settings)


@pytest.fixture
def pollers(settings: Settings, worker: object) -> Iterator[MailboxPollers]:
    """`omnidesk worker`'s pollers, started while the desk has no mailbox at all."""
    assert settings.redis_url
    running = MailboxPollers.for_desk(
        Desk.load(settings), settings.redis_url, lease_ttl=1.0, follow_interval=0.2
    ).start()
    yield running
    running.stop()


def mailbox(dovecot: DovecotServer, folder: str) -> dict[str, Any]:
    return {
        "name": "console-mail",
        "channel": "email",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "username": USER,
        "password": dovecot.users[USER],
        "folder": folder,
        "smtp_host": "127.0.0.1",
        "smtp_port": 9,
        "smtp_security": "none",
        "from_address": "TP官方客服 <service@tp.example>",
        "poll_interval": 0.2,
    }


def subjects_of_requests(settings: Settings) -> set[str]:
    with Session(get_engine(settings)) as session:
        return {r.subject or "" for r in session.exec(select(Request))}


def subjects_of_messages(settings: Settings) -> set[str]:
    with Session(get_engine(settings)) as session:
        return {m.subject or "" for m in session.exec(select(Message))}


def test_a_mailbox_created_in_the_console_is_polled_without_a_restart(
    settings: Settings, console: Desk, pollers: MailboxPollers, box: Box, dovecot: DovecotServer
) -> None:
    assert pollers.pollers == []

    # When an admin adds the mailbox, and a customer writes to it
    connector_admin.create(console, mailbox(dovecot, box.folder), "admin", skip_check=True)
    box.append(plain_mail(1, subject="新邮箱"))

    # Then the worker polls it and the mail becomes a request
    wait_until(lambda: "新邮箱 1" in subjects_of_requests(settings))
    assert [p.connector.config.name for p in pollers.pollers] == ["console-mail"]


def test_an_edited_mailbox_is_polled_with_its_new_settings(
    settings: Settings, console: Desk, pollers: MailboxPollers, box: Box, dovecot: DovecotServer
) -> None:
    # Given a console mailbox being polled
    connector_admin.create(console, mailbox(dovecot, box.folder), "admin", skip_check=True)
    box.append(plain_mail(1, subject="旧文件夹"))
    wait_until(lambda: "旧文件夹 1" in subjects_of_messages(settings))
    first = pollers.pollers[0]

    # When the admin points it at another folder, where a customer then writes
    other = Box(dovecot).create()
    connector_admin.edit(
        console, "console-mail", {"folder": other.folder}, "admin", skip_check=True
    )
    other.append(plain_mail(2, subject="新文件夹"))

    # Then a fresh poller reads the new folder and the old one is gone
    wait_until(lambda: "新文件夹 2" in subjects_of_messages(settings))
    [current] = pollers.pollers
    assert current is not first
    assert current.connector.config.folder == other.folder
    assert not first.is_alive()


def test_a_disabled_mailbox_stops_being_polled_and_enabling_it_resumes(
    settings: Settings, console: Desk, pollers: MailboxPollers, box: Box, dovecot: DovecotServer
) -> None:
    # Given a console mailbox being polled
    connector_admin.create(console, mailbox(dovecot, box.folder), "admin", skip_check=True)
    box.append(plain_mail(1, subject="启用中"))
    wait_until(lambda: "启用中 1" in subjects_of_messages(settings))
    poller = pollers.pollers[0]
    key = lease_key(poller.connector)

    # When the admin disables it
    connector_admin.set_enabled(console, "console-mail", False, "admin")

    # Then its poller stops and gives the mailbox's lease up
    wait_until(lambda: pollers.pollers == [] and not poller.is_alive())
    assert redis.Redis.from_url(settings.redis_url).get(key) is None

    # And mail that comes while it is disabled waits for it to be enabled again
    box.append(plain_mail(2, subject="停用时"))
    connector_admin.set_enabled(console, "console-mail", True, "admin")
    wait_until(lambda: "停用时 2" in subjects_of_messages(settings))
