"""Rejected: a change the desk refuses, with stable snake_case codes keyed by field."""

from __future__ import annotations


class Rejected(ValueError):
    """A refused change: `errors` maps a field (or "base") to a code the UI translates.

    `status` is the HTTP status the API answers with: 422 for bad input, 409 for a conflict with
    the desk's state, 400 for a provider that refused the settings.
    """

    def __init__(
        self,
        errors: dict[str, str],
        message: str = "",
        *,
        status: int = 422,
        messages: dict[str, str] | None = None,
    ) -> None:
        """`messages` optionally says in words what is wrong with each field of `errors`."""
        super().__init__(message or ", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.status = status
        self.messages = messages or {}

    @classmethod
    def one(cls, field: str, code: str, message: str = "", *, status: int = 422) -> Rejected:
        return cls({field: code}, message or f"{field}: {code}", status=status)


class NotFound(LookupError):
    """The thing asked for does not exist (the API answers 404)."""
