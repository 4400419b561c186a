"""Visitor tokens and the shop's signed-in customer proof (pure: no I/O).

A visitor token is what the widget keeps in the browser: the visitor's id and, for a shop's
signed-in customer, their user id, signed with a key derived from OMNIDESK_SECRET_KEY (so it
survives restarts and works on every API process) and salted with the connector's name (a
token of one site's chat is no token for another's). It lasts about a year.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

DAY = 86_400
VISITOR_ID_BYTES = 16
MAX_USER_ID = 128


@dataclass(frozen=True)
class Visitor:
    """Who holds a token: an anonymous visitor, or a shop's signed-in customer."""

    visitor_id: str
    user_id: str | None = None

    @property
    def address(self) -> str:
        """Their webchat identity: one per signed-in customer, else one per browser."""
        return f"user:{self.user_id}" if self.user_id is not None else f"visitor:{self.visitor_id}"


def new_visitor() -> Visitor:
    return Visitor(secrets.token_urlsafe(VISITOR_ID_BYTES))


class VisitorTokens:
    """Issues and reads visitor tokens; `keys` newest last (all verify, the newest signs)."""

    def __init__(self, keys: list[bytes], connector: str, max_age_days: int) -> None:
        self.serializer = URLSafeTimedSerializer(keys, salt=f"omnidesk.webchat:{connector}")
        self.max_age = max_age_days * DAY

    def issue(self, visitor: Visitor) -> str:
        payload = {"v": visitor.visitor_id}
        if visitor.user_id is not None:
            payload["u"] = visitor.user_id
        return str(self.serializer.dumps(payload))

    def read(self, token: str | None) -> Visitor | None:
        """The visitor of a genuine, unexpired token; None for anything else."""
        if not token or len(token) > 1024:
            return None
        try:
            payload = self.serializer.loads(token, max_age=self.max_age)
        except BadData:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("v"), str):
            return None
        user = payload.get("u")
        return Visitor(payload["v"], user if isinstance(user, str) else None)


def user_hash(identity_secret: str, user_id: str) -> str:
    """What the shop computes for its signed-in customer: hex HMAC-SHA256(secret, user_id)."""
    return hmac.new(identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def user_verified(identity_secret: str | None, user_id: str, given_hash: str | None) -> bool:
    """Whether `given_hash` proves `user_id` (constant-time; no secret configured: never)."""
    if not identity_secret or not given_hash or not user_id or len(user_id) > MAX_USER_ID:
        return False
    expected = user_hash(identity_secret, user_id)
    return hmac.compare_digest(expected, given_hash.strip().lower())
