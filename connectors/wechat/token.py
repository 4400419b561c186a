"""The access token of one Official Account, fetched by one holder and shared through Redis (2.5).

We call `POST /cgi-bin/stable_token`, not `GET /cgi-bin/token`:
- in normal mode it answers the same token while that token is valid, so two holders that both
  fetch (an expired lock, two machines) do not invalidate each other; `/cgi-bin/token` issues a
  new token on every call and kills the previous one five minutes later;
- its tokens are separate from `/cgi-bin/token`'s, so another system using the same AppID with
  the classic endpoint cannot invalidate ours;
- its quota is far larger (10,000 calls a minute, 500,000 a day).
It renews a token only in its last five minutes, so we refresh five minutes early. When WeChat
rejects a token (40001/40014/42001) we refresh once, in force mode if normal mode hands back the
rejected token, and the caller retries once: never wechatpy's unbounded recursion (2.8).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx
import redis
from redis.exceptions import LockError

from connectors.wechat import outbound
from omnidesk.errors import TransientError

REFRESH_MARGIN = 300.0
LOCK_SECONDS = 10.0
KEY_PREFIX = "omnidesk:wechat"

# force_refresh -> (access_token, expires_in)
Fetch = Callable[[bool], tuple[str, int]]


class TokenFetchError(Exception):
    """WeChat refused to issue an access token (errcode and errmsg as WeChat sent them)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def fetch_stable_token(
    http: httpx.Client, base_url: str, app_id: str, secret: str, force: bool
) -> tuple[str, int]:
    """One call to `/cgi-bin/stable_token`: the token and its remaining seconds."""
    payload = {
        "grant_type": "client_credential",
        "appid": app_id,
        "secret": secret,
        "force_refresh": force,
    }
    response = http.post(f"{base_url.rstrip('/')}{outbound.STABLE_TOKEN_PATH}", json=payload)
    answer = outbound.read_answer(response.status_code, response.content)
    if code := outbound.errcode_of(answer):
        raise TokenFetchError(code, str(answer.get("errmsg", "")))
    token, expires_in = answer.get("access_token"), answer.get("expires_in")
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise TransientError("WeChat answered a token without access_token or expires_in")
    return token, expires_in


@dataclass(frozen=True)
class Grant:
    """A token as cached: when it dies and when we fetch the next one."""

    token: str
    expires_at: float
    refresh_at: float


class Store(Protocol):
    """The part of `redis.Redis` the cache uses (LocalStore stands in without Redis)."""

    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, px: int) -> Any: ...

    def lock(self, name: str, timeout: float, blocking_timeout: float) -> Any: ...


class LocalStore:
    """A one-process stand-in for Redis, for installations that run without one."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def set(self, name: str, value: str, px: int) -> None:
        self._values[name] = value

    def lock(self, name: str, timeout: float, blocking_timeout: float) -> _LocalLock:
        with self._guard:
            return _LocalLock(self._locks.setdefault(name, threading.Lock()), blocking_timeout)


class _LocalLock:
    def __init__(self, lock: threading.Lock, wait: float) -> None:
        self._lock, self._wait = lock, wait

    def acquire(self) -> bool:
        return self._lock.acquire(timeout=self._wait)

    def release(self) -> None:
        self._lock.release()


def store_for(redis_url: str | None) -> Store:
    """Redis when the installation has one (shared by every worker), else a per-process store."""
    if redis_url is None:
        return LocalStore()
    return redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)


class TokenCache:
    """The shared token of one AppID: read by all, fetched under a lock by one holder."""

    def __init__(
        self, store: Store, app_id: str, fetch: Fetch, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.key = f"{KEY_PREFIX}:{app_id}:access_token"
        self.fetch = fetch
        self.clock = clock

    def get(self) -> str:
        """A token valid for at least the refresh margin, fetched if the cache has none."""
        grant = self._read()
        if grant is not None and self.clock() < grant.refresh_at:
            return grant.token
        with self._locked():
            grant = self._read()  # another holder may have fetched while we waited
            if grant is not None and self.clock() < grant.refresh_at:
                return grant.token
            return self._fetch(force=False).token

    def refresh(self, rejected: str) -> str:
        """A new token after WeChat rejected `rejected` (unless another holder already has one)."""
        with self._locked():
            grant = self._read()
            if grant is not None and grant.token != rejected and self.clock() < grant.refresh_at:
                return grant.token
            fresh = self._fetch(force=False)
            if fresh.token == rejected:  # stable_token still thinks it valid: force a new one
                fresh = self._fetch(force=True)
            return fresh.token

    def _fetch(self, force: bool) -> Grant:
        token, expires_in = self.fetch(force)
        now = self.clock()
        ahead = max(expires_in - REFRESH_MARGIN, expires_in / 2)
        grant = Grant(token=token, expires_at=now + expires_in, refresh_at=now + ahead)
        ttl_ms = max(1, int(expires_in * 1000))
        self._redis(lambda: self.store.set(self.key, json.dumps(asdict(grant)), px=ttl_ms))
        return grant

    def _read(self) -> Grant | None:
        raw = self._redis(lambda: self.store.get(self.key))
        if not raw:
            return None
        try:
            return Grant(**json.loads(raw))
        except (TypeError, ValueError):
            return None  # an unreadable entry is refetched and overwritten

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self._redis(
            lambda: self.store.lock(
                f"{self.key}:lock", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS
            )
        )
        if not self._redis(lock.acquire):
            raise TransientError("another worker has held the access-token lock too long")
        try:
            yield
        finally:
            with suppress(LockError, redis.RedisError):
                lock.release()

    @staticmethod
    def _redis(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except redis.RedisError as exc:
            raise TransientError(f"Redis is unreachable; no shared access token: {exc}") from exc
