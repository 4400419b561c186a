"""Mailbox pollers: one thread per polling connector, each holding a Redis lease on its mailbox.

Any number of `omnidesk worker` machines start a poller per email connector; the lease lets one
of them poll a mailbox at a time. It is `SET key token NX PX ttl`, renewed by a compare-and-
pexpire script while the poller runs and released by compare-and-del; when a holder dies, the
key expires and another machine takes over. The lease only avoids wasted work: if two pollers
ever overlap (a holder paused past its TTL), intake's unique key still stores each mail once.

A poller is a long-lived thread, not a Dramatiq actor: IDLE keeps one connection open for up
to 29 minutes, which does not fit an actor's time limit (STYLE 6 lists `poll_mailbox`; this is
its machinery).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Any

import redis
import structlog

from omnidesk.connector import Connector, Intake
from omnidesk.desk import Desk
from omnidesk.services.intake import DeskIntake
from omnidesk.services.mail import DeskMailboxBook, MailboxBook
from omnidesk.services.pipeline import Dispatcher

log = structlog.get_logger(__name__)

DEFAULT_LEASE_TTL = 30.0
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Lease:
    """A lock in Redis that expires unless its holder renews it."""

    def __init__(self, client: redis.Redis, key: str, ttl: float = DEFAULT_LEASE_TTL) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl * 1000)
        self.token = ""
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (or the holder's lease expired)."""
        token = secrets.token_hex(16)
        if self.client.set(self.key, token, nx=True, px=self.ttl_ms):
            self.token = token
            return True
        return False

    def renew(self) -> bool:
        """Extend our lease; False if it expired and is gone or someone else holds it now."""
        return bool(self.token) and bool(
            self._renew(keys=[self.key], args=[self.token, self.ttl_ms])
        )

    def release(self) -> None:
        """Give the lease up if it is still ours."""
        if self.token:
            self._release(keys=[self.key], args=[self.token])
            self.token = ""


class MailboxPoller(threading.Thread):
    """`poll_mailbox`: wait for the mailbox's lease, poll while holding it, repeat until stopped."""

    def __init__(
        self, connector: Any, intake: Intake, book: MailboxBook, lease: Lease, **poll_options: Any
    ) -> None:
        super().__init__(name=f"poll-{connector.config.name}", daemon=True)
        self.connector = connector
        self.intake = intake
        self.book = book
        self.lease = lease
        self.poll_options = poll_options
        self.stopping = threading.Event()
        self.retry_interval = lease.ttl_ms / 1000 / 3

    def run(self) -> None:
        bound = log.bind(connector=self.connector.config.name)
        while not self.stopping.is_set():
            try:
                if self.lease.acquire():
                    bound.info("mailbox_lease_taken")
                    self._hold()
                    bound.info("mailbox_lease_left")
            except Exception as exc:  # noqa: BLE001 - Redis or the poller failed; try again
                bound.warning("mailbox_poller_failed", error=f"{type(exc).__name__}: {exc}")
            self.stopping.wait(self.retry_interval)

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        self.join(timeout)

    def _hold(self) -> None:
        lost = threading.Event()
        renewer = threading.Thread(
            target=_keep,
            args=(self.lease, lost, self.stopping),
            name=f"{self.name}-lease",
            daemon=True,
        )
        renewer.start()
        try:
            self.connector.poll(
                self.intake,
                self.book,
                lambda: self.stopping.is_set() or lost.is_set(),
                **self.poll_options,
            )
        finally:
            lost.set()
            renewer.join()
            self._release()

    def _release(self) -> None:
        try:
            self.lease.release()
        except redis.RedisError as exc:  # it expires on its own
            log.warning("mailbox_lease_release_failed", error=str(exc))


class MailboxPollers:
    """Every polling connector of the desk, each in its own MailboxPoller thread."""

    def __init__(self, pollers: list[MailboxPoller]) -> None:
        self.pollers = pollers

    @classmethod
    def for_desk(
        cls,
        desk: Desk,
        redis_url: str,
        dispatcher: Dispatcher | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL,
    ) -> MailboxPollers:
        """One poller per enabled connector that has `poll` (the email connectors)."""
        from workers.dispatch import DramatiqDispatcher

        intake = DeskIntake(desk, dispatcher or DramatiqDispatcher())
        book = DeskMailboxBook(desk)
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        pollers = [
            MailboxPoller(c, intake, book, Lease(client, lease_key(c), lease_ttl))
            for c in desk.connectors.values()
            if c.config.enabled and callable(getattr(c, "poll", None))
        ]
        return cls(pollers)

    def start(self) -> MailboxPollers:
        for poller in self.pollers:
            poller.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        for poller in self.pollers:
            poller.stopping.set()
        deadline = time.monotonic() + timeout
        for poller in self.pollers:
            poller.join(max(0.0, deadline - time.monotonic()))


def lease_key(connector: Connector) -> str:
    """One key per provider account (connectors with one identity share a mailbox)."""
    identity = "\x1f".join(connector.config.account_identity())
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"omnidesk:lease:mailbox:{digest}"


def _keep(lease: Lease, lost: threading.Event, stopping: threading.Event) -> None:
    """Renew the lease every third of its TTL; declare it lost when renewal is refused, or
    when Redis has not confirmed it for a whole TTL (another machine may hold it by then)."""
    ttl = lease.ttl_ms / 1000
    confirmed = time.monotonic()
    while not lost.wait(ttl / 3) and not stopping.is_set():
        try:
            if not lease.renew():
                log.warning("mailbox_lease_lost", key=lease.key)
                lost.set()
                return
            confirmed = time.monotonic()
        except redis.RedisError as exc:
            if time.monotonic() - confirmed > ttl:
                log.warning("mailbox_lease_lost", key=lease.key, error=str(exc))
                lost.set()
                return
