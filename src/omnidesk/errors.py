"""The kinds of failure (STYLE 5): rejected input, quarantine, transient, permanent, needs-admin."""

from __future__ import annotations


class OmnideskError(Exception):
    """Base of every error omnidesk raises on purpose."""


class ConfigError(OmnideskError):
    """The configuration is wrong; the message names the file, table and key."""


class SignatureError(OmnideskError):
    """A webhook's signature is missing, wrong or stale: answer 403, store nothing."""


class BadPayload(OmnideskError):
    """A webhook body we refuse to read (malformed, hostile XML): answer 400, store nothing."""


class Quarantine(OmnideskError):
    """Poison input: keep the raw bytes with this reason and stop retrying."""


class TransientError(OmnideskError):
    """The provider may accept the same request later: retry with backoff."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class PermanentSendError(OmnideskError):
    """The provider refused for good; the reason is shown to the agent."""

    def __init__(self, code: str | None, reason: str) -> None:
        super().__init__(f"{code}: {reason}" if code else reason)
        self.code = code
        self.reason = reason


class MediaUnavailable(OmnideskError):
    """The provider will not hand over an attachment's media (unknown or expired id, larger
    than allowed, our credentials refused): asking again will not help; `code` says which."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class CannotConnect(OmnideskError):
    """The provider could not be reached (connector state: retrying)."""


class InvalidAuth(OmnideskError):
    """The provider refused our credentials (connector state: needs_reauth)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ModelError(OmnideskError):
    """A triage model directory is missing, incomplete or of an unknown format."""
