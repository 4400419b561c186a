"""Mailbox pollers: one thread per polling connector, each holding a Redis lease on its mailbox.

Any number of `omnidesk worker` machines start a poller per email connector; the lease lets one
of them poll a mailbox at a time. It is `SET key token NX PX ttl`, renewed by a compare-and-
pexpire script while the poller runs and released by compare-and-del; when a holder dies, the
key expires and another machine takes over. The lease only avoids wasted work: if two pollers
ever overlap (a holder paused past its TTL), intake's unique key still stores each mail once.

The pollers follow the connector registry: a mailbox created, edited, disabled or deleted in
the admin console starts, restarts or stops its poller on every worker within seconds, without a
restart (MailboxPollers).

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
from omnidesk.services import console_connectors
from omnidesk.services.intake import DeskIntake
from omnidesk.services.mail import DeskMailboxBook, MailboxBook
from omnidesk.services.pipeline import Dispatcher

log = structlog.get_logger(__name__)

DEFAULT_LEASE_TTL = 30.0
# How often each worker looks for console changes to its mailboxes (one small query).
DEFAULT_FOLLOW_INTERVAL = 2.0
# How long a replaced poller may take to notice it should stop (IDLE is checked every second).
STOP_WAIT = 15.0
# A poller waiting for a lease someone else holds asks again this often at most: a restarted
# poller on another machine gives its lease up within seconds.
MAX_LEASE_RETRY = 3.0
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
        self.retry_interval = min(lease.ttl_ms / 1000 / 3, MAX_LEASE_RETRY)

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
    """A MailboxPoller per enabled polling connector of the desk, following its registry.

    Once started, a follower thread looks at the console's connectors every `follow_interval`
    seconds (console_connectors.refresh: one small query) and reconciles: a connector created or
    enabled gets a poller, one edited (another host, new credentials) gets a fresh poller, one
    disabled or deleted loses its poller. Every worker machine does the same on its own desk;
    the Redis lease still lets one of them poll a mailbox at a time. An old poller is stopped
    and joined before its successor starts, so it gives its lease up first.
    """

    def __init__(
        self,
        desk: Desk,
        intake: Intake,
        book: MailboxBook,
        client: redis.Redis,
        lease_ttl: float = DEFAULT_LEASE_TTL,
        follow_interval: float = DEFAULT_FOLLOW_INTERVAL,
    ) -> None:
        self.desk, self.intake, self.book, self.client = desk, intake, book, client
        self.lease_ttl = lease_ttl
        self.follow_interval = follow_interval
        self.poll_options: dict[str, Any] = {}
        self._running: dict[str, MailboxPoller] = {}
        self._started = False
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._follower = threading.Thread(target=self._follow, name="poll-follow", daemon=True)
        self.reconcile()

    @classmethod
    def for_desk(
        cls,
        desk: Desk,
        redis_url: str,
        dispatcher: Dispatcher | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL,
        follow_interval: float = DEFAULT_FOLLOW_INTERVAL,
    ) -> MailboxPollers:
        """Pollers for the desk's connectors that have `poll` (the email connectors)."""
        from workers.dispatch import DramatiqDispatcher

        intake = DeskIntake(desk, dispatcher or DramatiqDispatcher())
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        return cls(desk, intake, DeskMailboxBook(desk), client, lease_ttl, follow_interval)

    @property
    def pollers(self) -> list[MailboxPoller]:
        """The pollers running now (or about to, before `start`)."""
        with self._lock:
            return list(self._running.values())

    def start(self) -> MailboxPollers:
        with self._lock:
            self._started = True
            for poller in self._running.values():
                poller.start()
        self._follower.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._follower.is_alive():
            self._follower.join(timeout)
        with self._lock:
            pollers = list(self._running.values())
        _stop_all(pollers, timeout)

    def reconcile(self) -> None:
        """Make the running pollers match the desk's enabled polling connectors."""
        wanted = {n: c for n, c in list(self.desk.connectors.items()) if _polls(c)}
        with self._lock:
            leaving = [
                p
                for name, p in self._running.items()
                if name not in wanted or wanted[name].config != p.connector.config
            ]
            for poller in leaving:
                del self._running[poller.connector.config.name]
        _stop_all(leaving, STOP_WAIT)
        for poller in leaving:
            name = poller.connector.config.name
            event = "mailbox_poller_restarted" if name in wanted else "mailbox_poller_stopped"
            log.info(event, connector=name)
        with self._lock:
            for name, connector in wanted.items():
                if name not in self._running:
                    self._running[name] = self._poller(connector)

    def _poller(self, connector: Any) -> MailboxPoller:
        lease = Lease(self.client, lease_key(connector), self.lease_ttl)
        poller = MailboxPoller(connector, self.intake, self.book, lease)
        poller.poll_options = self.poll_options  # shared: options set now reach later pollers
        if self._started and not self._stopping.is_set():
            poller.start()
            log.info("mailbox_poller_started", connector=connector.config.name)
        return poller

    def _follow(self) -> None:
        while not self._stopping.wait(self.follow_interval):
            try:
                console_connectors.refresh(self.desk, force=True)
                self.reconcile()
            except Exception as exc:  # noqa: BLE001 - the database may be away; look again later
                log.warning("mailbox_pollers_refresh_failed", error=f"{type(exc).__name__}: {exc}")


def _polls(connector: Connector) -> bool:
    return connector.config.enabled and callable(getattr(connector, "poll", None))


def _stop_all(pollers: list[MailboxPoller], timeout: float) -> None:
    """Signal every poller, then wait for them together (each releases its lease on the way)."""
    for poller in pollers:
        poller.stopping.set()
    deadline = time.monotonic() + timeout
    for poller in pollers:
        if poller.is_alive():
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
