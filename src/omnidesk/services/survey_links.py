"""Signed, expiring survey links for email: `{public_url}/survey/{token}?score=N`, no login.

A token is `{survey_id}.{expires}.{token_id}.{signature}`: the survey, when the link expires
(Unix seconds), the random id stored on the survey (so a link can be revoked by issuing another)
and an HMAC-SHA256 over the first three, keyed from OMNIDESK_SECRET_KEY (each comma-separated key
is tried, the first one signs: rotation as for the connector secrets). Development and test
installations without the key use a random key kept in `<data_dir>/survey-link.key`;
production refuses to build links without OMNIDESK_SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from omnidesk.errors import ConfigError
from omnidesk.settings import Settings

DEV_KEY_FILE = "survey-link.key"
_CONTEXT = b"omnidesk survey link v1\x00"
_TOKEN = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$")


class InvalidLink(Exception):
    """The link was altered, or names no survey: "this link is not valid"."""


class ExpiredLink(Exception):
    """The link was genuine but its time is up: "this link has expired"."""


@dataclass(frozen=True)
class LinkSigner:
    """Makes and reads survey tokens; the first key signs, every key verifies."""

    keys: tuple[bytes, ...]
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkSigner:
        return cls(_keys(settings), settings.public_url)

    @staticmethod
    def new_token_id() -> str:
        return secrets.token_urlsafe(16)

    def token(self, survey_id: int, token_id: str, expires_at: datetime) -> str:
        payload = f"{survey_id}.{int(expires_at.timestamp())}.{token_id}"
        return f"{payload}.{_sign(self.keys[0], payload)}"

    def url(self, token: str, score: int | None = None) -> str:
        query = f"?score={score}" if score is not None else ""
        return f"{self.public_url}/survey/{token}{query}"

    def read(self, token: str, now: datetime | None = None) -> tuple[int, str]:
        """(survey id, token id) of a genuine, unexpired token.

        Raises:
            InvalidLink: the token is malformed or its signature does not match.
            ExpiredLink: the signature matches but the expiry has passed.
        """
        match = _TOKEN.match(token)
        if match is None:
            raise InvalidLink("malformed token")
        survey_id, expires, token_id, signature = match.groups()
        payload = f"{survey_id}.{expires}.{token_id}"
        if not any(hmac.compare_digest(_sign(k, payload), signature) for k in self.keys):
            raise InvalidLink("bad signature")
        moment = now or datetime.now(UTC)
        if int(expires) <= moment.timestamp():
            raise ExpiredLink(f"expired at {datetime.fromtimestamp(int(expires), UTC):%Y-%m-%d}")
        return int(survey_id), token_id


def _sign(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _keys(settings: Settings) -> tuple[bytes, ...]:
    """Link keys derived from OMNIDESK_SECRET_KEY (separate from its use for encryption)."""
    configured = settings.secret_key.get_secret_value() if settings.secret_key else ""
    raw = [k.strip().encode() for k in configured.split(",") if k.strip()]
    if not raw:
        if settings.environment == "production":
            raise ConfigError(
                "OMNIDESK_SECRET_KEY is not set: email survey links are signed with it"
            )
        raw = [_development_key(settings.data_dir)]
    return tuple(hashlib.sha256(_CONTEXT + k).digest() for k in raw)


def _development_key(data_dir: Path) -> bytes:
    """A random key made once per data dir; `link` publishes it whole or not at all, so
    concurrent processes (API, workers) agree on one and never read a half-written file."""
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{DEV_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_urlsafe(32).encode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process published its key first: use that one
        finally:
            draft.unlink()
    return path.read_bytes().strip()
