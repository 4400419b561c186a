"""IMAP in: one mailbox session, and the poller that imports a folder once per mail (protocols 4.1).

Per folder the poller keeps (UIDVALIDITY, highest imported UID) in a MailboxBook. A round is:
SELECT; compare UIDVALIDITY; `UID SEARCH UID last+1:*`, filtered client-side (`N:*` matches the
highest message even when N is above it); then per batch: fetch `BODY.PEEK[]` (leaves \\Seen
alone), hand each mail to the importer, which commits it; only then flag \\Seen or move the
batch; then advance the mark. A crash anywhere in between leaves the mail to be fetched again,
and the importer's dedupe (Message-ID, else a digest of the bytes) stores it once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

import omnidesk
from connectors.email.config import EmailConfig
from connectors.email.threading import message_ids
from omnidesk.errors import CannotConnect, InvalidAuth
from omnidesk.services.mail import MailboxBook, MailboxMark

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT = 60.0
MAX_BATCH_BYTES = 32 * 1024 * 1024
# UIDs per FETCH of sizes or headers: keeps the command line well under Dovecot's 64 KiB limit.
UID_CHUNK = 500
# IDLE is checked in slices this long so a stop request or a lost lease is noticed quickly.
IDLE_SLICE = 1.0
RESYNC_MARGIN = timedelta(days=2)
ID_PARAMS = {"name": "omnidesk", "version": omnidesk.__version__}
_HEADER_ID = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"


@dataclass(frozen=True)
class FetchedMail:
    """One mail as the server holds it."""

    uid: int
    raw: bytes
    received_at: datetime | None


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int


Importer = Callable[[FetchedMail], None]
Stop = Callable[[], bool]
# Called with ("found", count), ("fetched", uid), ("stored", uid), ("finished", uid).
Observer = Callable[[str, int], None]


class Mailbox:
    """One logged-in IMAP session on the connector's folder."""

    def __init__(self, config: EmailConfig, client: IMAPClient) -> None:
        self.config = config
        self.client = client
        # Asked again after login: the list can grow once authenticated (protocols 4.1).
        self.capabilities = {bytes(c).decode().upper() for c in client.capabilities()}

    @classmethod
    def open(cls, config: EmailConfig, timeout: float = DEFAULT_TIMEOUT) -> Mailbox:
        """Connect (SSL, STARTTLS or plain), log in (password or XOAUTH2), and send ID."""
        context = config.tls_context()
        try:
            client = IMAPClient(
                config.imap_host,
                config.imap_port,
                ssl=config.imap_security == "ssl",
                ssl_context=context,
                timeout=timeout,
            )
        except (IMAPClientError, OSError) as exc:
            raise CannotConnect(f"cannot reach the IMAP server: {exc}") from exc
        try:
            if config.imap_security == "starttls":
                client.starttls(context)
            _login(client, config)
            client.normalise_times = False
            mailbox = cls(config, client)
            if "ID" in mailbox.capabilities:
                # NetEase (163/126) answers SELECT with "Unsafe Login" without it (RFC 2971).
                client.id_(ID_PARAMS)
        except BaseException:
            _shutdown(client)
            raise
        return mailbox

    def select(self, readonly: bool = False) -> FolderStatus:
        try:
            info = self.client.select_folder(self.config.folder, readonly=readonly)
        except IMAPClientError as exc:
            raise CannotConnect(f"cannot open folder {self.config.folder!r}: {exc}") from exc
        uidnext = info.get(b"UIDNEXT") or max(self.client.search(["ALL"]), default=0) + 1
        return FolderStatus(int(info[b"UIDVALIDITY"]), int(uidnext))

    def uids_after(self, last_uid: int) -> list[int]:
        found = self.client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def search(self, criteria: list[Any]) -> list[int]:
        return sorted(self.client.search(criteria))

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        data = self.client.fetch(list(uids), ["RFC822.SIZE"])
        return {uid: int(item.get(b"RFC822.SIZE") or 0) for uid, item in data.items()}

    def fetch(self, uids: Sequence[int]) -> list[FetchedMail]:
        """The raw bytes and arrival time of each mail still there, in UID order."""
        data = self.client.fetch(list(uids), ["BODY.PEEK[]", "INTERNALDATE"])
        return [
            FetchedMail(uid, data[uid].get(b"BODY[]") or b"", _utc(data[uid].get(b"INTERNALDATE")))
            for uid in uids
            if uid in data
        ]

    def message_ids(self, uids: Sequence[int]) -> dict[int, str | None]:
        """Each mail's Message-ID (from the header alone), None where it has none."""
        found: dict[int, str | None] = {}
        for chunk in _chunks(uids, UID_CHUNK):
            for uid, item in self.client.fetch(chunk, [_HEADER_ID]).items():
                header = next((v for k, v in item.items() if bytes(k).startswith(b"BODY[")), b"")
                ids = message_ids(bytes(header or b"").decode("ascii", "replace").partition(":")[2])
                found[uid] = ids[0] if ids else None
        return found

    def finish(self, uids: Sequence[int]) -> None:
        """Mark stored mail done: flag it \\Seen, or move it to the processed folder."""
        if not uids:
            return
        if not self.config.processed_folder:
            self.client.add_flags(list(uids), [SEEN], silent=True)
            return
        try:
            self._move(list(uids))
        except IMAPClientError as exc:
            if "TRYCREATE" not in str(exc):  # RFC 3501 7.1: the target folder does not exist
                raise
            self.client.create_folder(self.config.processed_folder)
            self._move(list(uids))

    def _move(self, uids: list[int]) -> None:
        target = self.config.processed_folder
        if "MOVE" in self.capabilities:
            self.client.move(uids, target)
            return
        self.client.copy(uids, target)
        self.client.add_flags(uids, [DELETED], silent=True)
        # A bare EXPUNGE would also remove other clients' \Deleted mail; without UIDPLUS ours
        # stays flagged \Deleted until someone expunges (protocols 4.1).
        if "UIDPLUS" in self.capabilities:
            self.client.uid_expunge(uids)

    def wait(self, should_stop: Stop) -> None:
        """Return when new mail may be there: IDLE push (RFC 2177), else after poll_interval."""
        if "IDLE" in self.capabilities:
            self.client.idle()
            self._idle_until(time.monotonic() + self.config.idle_timeout, should_stop)
            self.client.idle_done()
        else:
            _sleep(self.config.poll_interval, should_stop)
            self.client.noop()

    def _idle_until(self, deadline: float, should_stop: Stop) -> None:
        empty_wakeups = 0
        while not should_stop() and time.monotonic() < deadline:
            started = time.monotonic()
            responses = self.client.idle_check(timeout=IDLE_SLICE)
            if any(b"EXISTS" in r or b"RECENT" in r for r in responses):
                return
            # idle_check swallows EOF: a closed socket looks like an instant empty answer.
            fast = not responses and time.monotonic() - started < IDLE_SLICE / 2
            empty_wakeups = empty_wakeups + 1 if fast else 0
            if empty_wakeups >= 3:
                raise ConnectionError("the IMAP server closed the connection during IDLE")

    def close(self) -> None:
        try:
            self.client.logout()
        except (IMAPClientError, OSError):
            _shutdown(self.client)


class ImapPoller:
    """Imports one folder's new mail, round after round, across drops and restarts."""

    mailbox_class: type[Mailbox] = Mailbox

    def __init__(
        self,
        config: EmailConfig,
        book: MailboxBook,
        importer: Importer,
        observer: Observer | None = None,
        *,
        backoff: tuple[float, float] = (1.0, 300.0),
    ) -> None:
        self.config = config
        self.book = book
        self.importer = importer
        self.observe: Observer = observer or (lambda _event, _value: None)
        self.backoff = Backoff(*backoff)

    def run(self, should_stop: Stop) -> None:
        """Connect, import, wait for mail, repeat until `should_stop()`; reconnect with backoff."""
        while not should_stop():
            try:
                self._session(should_stop)
            except InvalidAuth as exc:
                self._trouble("needs_reauth", exc, should_stop, pause=self.backoff.maximum)
            except Exception as exc:  # noqa: BLE001 - a poller outlives any one failure
                self._trouble("retrying", exc, should_stop, pause=self.backoff.next())

    def sync(self, mailbox: Mailbox, should_stop: Stop = lambda: False) -> int:
        """Import what is new in the folder; return how many mails were handed to the importer."""
        status = mailbox.select()
        mark = self.book.load(self.config.name, self.config.folder)
        if mark is not None and mark.uidvalidity == status.uidvalidity:
            return self._import_new(mailbox, mark, should_stop)
        return self._rescan(mailbox, status, mark)

    def backfill(self, since: date) -> int:
        """Import every mail that arrived since `since` and is not stored yet; touch nothing."""
        mailbox = self.mailbox_class.open(self.config)
        try:
            mailbox.select(readonly=True)
            uids = mailbox.search(["SINCE", since])
            known = self._known(mailbox, uids)
            new = [uid for uid in uids if uid not in known]
            self.observe("found", len(new))
            for batch in self._batches(mailbox, new):
                for mail in mailbox.fetch(batch):
                    self.importer(mail)
                    self.observe("stored", mail.uid)
        finally:
            mailbox.close()
        return len(new)

    def _session(self, should_stop: Stop) -> None:
        mailbox = self.mailbox_class.open(self.config)
        try:
            self._set_state("ready")
            while not should_stop():
                # Wait only after a round that found nothing: mail that arrived during a round
                # may have been announced already (untagged EXISTS), and IDLE would not repeat it.
                imported = self.sync(mailbox, should_stop)
                self.backoff.reset()
                if not imported and not should_stop():
                    mailbox.wait(should_stop)
        finally:
            mailbox.close()

    def _import_new(self, mailbox: Mailbox, mark: MailboxMark, should_stop: Stop) -> int:
        count = 0
        for batch in self._batches(mailbox, mailbox.uids_after(mark.last_uid)):
            count += self._import_batch(mailbox, batch)
            self.book.save(
                self.config.name, self.config.folder, MailboxMark(mark.uidvalidity, batch[-1])
            )
            if should_stop():
                break
        return count

    def _rescan(self, mailbox: Mailbox, status: FolderStatus, mark: MailboxMark | None) -> int:
        """First import (unread mail only) or a changed UIDVALIDITY (every stored UID is void):
        look at the candidates, import those whose Message-ID is unknown, re-mark the rest."""
        criteria = _rescan_criteria(mark, bool(self.config.processed_folder))
        log.info("mailbox_rescan", connector=self.config.name, uidvalidity=status.uidvalidity)
        uids = mailbox.search(criteria)
        known = self._known(mailbox, uids)
        count = sum(
            self._import_batch(mailbox, batch)
            for batch in self._batches(mailbox, [uid for uid in uids if uid not in known])
        )
        mailbox.finish(sorted(known))
        last = max([status.uidnext - 1, *uids])
        self.book.save(self.config.name, self.config.folder, MailboxMark(status.uidvalidity, last))
        return count

    def _import_batch(self, mailbox: Mailbox, batch: Sequence[int]) -> int:
        mails = mailbox.fetch(batch)
        for mail in mails:
            self.observe("fetched", mail.uid)
            self.importer(mail)
            self.observe("stored", mail.uid)
        mailbox.finish([mail.uid for mail in mails])
        for mail in mails:
            self.observe("finished", mail.uid)
        return len(mails)

    def _batches(self, mailbox: Mailbox, uids: Sequence[int]) -> Iterator[list[int]]:
        for chunk in _chunks(uids, UID_CHUNK):
            sizes = mailbox.sizes(chunk)
            yield from plan_batches(chunk, sizes, self.config.batch_size, MAX_BATCH_BYTES)

    def _known(self, mailbox: Mailbox, uids: Sequence[int]) -> set[int]:
        ids = mailbox.message_ids(uids)
        stored = self.book.known_message_ids(self.config.name, [i for i in ids.values() if i])
        return {uid for uid, message_id in ids.items() if message_id in stored}

    def _trouble(self, state: str, exc: Exception, should_stop: Stop, pause: float) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("mailbox_unavailable", connector=self.config.name, state=state, error=reason)
        self._set_state(state, reason)
        _sleep(pause, should_stop)

    def _set_state(self, state: str, reason: str | None = None) -> None:
        try:
            self.book.set_state(self.config.name, state, reason)
        except Exception as exc:  # noqa: BLE001 - the state is advisory; importing matters more
            log.warning("connector_state_failed", connector=self.config.name, error=str(exc))


class Backoff:
    """Exponential reconnect delays with jitter, reset after a good round."""

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum, self.maximum, self.failures = minimum, maximum, 0

    def next(self) -> float:
        self.failures += 1
        return min(self.maximum, self.minimum * 2 ** (self.failures - 1)) * random.uniform(0.5, 1)

    def reset(self) -> None:
        self.failures = 0


def plan_batches(
    uids: Sequence[int], sizes: dict[int, int], max_count: int, max_bytes: int
) -> list[list[int]]:
    """Group UIDs (in order) into fetches of at most `max_count` mails and about `max_bytes`;
    UIDs without a size are gone from the server and dropped."""
    batches: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid in (u for u in uids if u in sizes):
        if current and (len(current) >= max_count or total + sizes[uid] > max_bytes):
            batches.append(current)
            current, total = [], 0
        current.append(uid)
        total += sizes[uid]
    return [*batches, current] if current else batches


def _rescan_criteria(mark: MailboxMark | None, moves: bool) -> list[Any]:
    if mark is None:
        # First import: unread mail only; older history is `omnidesk email import --since`.
        return ["UNSEEN", "UNDELETED"]
    if moves:
        return ["UNDELETED"]  # the folder holds only what is not processed yet
    since = ((mark.updated_at or datetime.now(UTC)) - RESYNC_MARGIN).date()
    return ["OR", "UNSEEN", "SINCE", since, "UNDELETED"]


def _login(client: IMAPClient, config: EmailConfig) -> None:
    secret = config.oauth2_token if config.uses_oauth2 else config.password
    try:
        login = client.oauth2_login if config.uses_oauth2 else client.login
        login(config.username, secret.get_secret_value() if secret else "")
    except LoginError as exc:
        field = "oauth2_token" if config.uses_oauth2 else "password"
        raise InvalidAuth(f"the IMAP server refused the login: {exc}", field=field) from exc


def _shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except (IMAPClientError, OSError):
        log.debug("imap_shutdown_failed")


def _sleep(seconds: float, should_stop: Stop) -> None:
    deadline = time.monotonic() + seconds
    while not should_stop() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
