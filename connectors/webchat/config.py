"""The keys of a `channel = "webchat"` connector table (one website's chat widget)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from omnidesk.connector import ConnectorConfig

# scheme://host[:port], where host may start with "*." for every subdomain of a shop's site.
ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024


class WebchatConfig(ConnectorConfig):
    """A website chat: which sites may embed it, how signed-in shop customers are verified, and
    the limits that protect the desk from a flood (per visitor, per IP address)."""

    channel: Literal["webchat"] = "webchat"
    allowed_origins: tuple[str, ...] = ()
    # HMAC-SHA256(identity_secret, user_id) proves a shop's signed-in customer; unset: anonymous.
    identity_secret: SecretStr | None = None
    max_message_chars: int = Field(default=4000, ge=1, le=20_000)
    max_image_bytes: int = Field(default=DEFAULT_MAX_IMAGE_BYTES, ge=1024, le=20 * 1024 * 1024)
    visitor_messages_per_minute: int = Field(default=20, ge=1)
    ip_messages_per_minute: int = Field(default=120, ge=1)
    ip_sessions_per_minute: int = Field(default=30, ge=1)
    uploads_per_hour: int = Field(default=30, ge=1)
    bot_name: str | None = Field(default=None, max_length=64)
    pre_chat_form: bool = False
    token_max_age_days: int = Field(default=365, ge=1, le=3650)

    @field_validator("identity_secret", mode="before")
    @classmethod
    def _empty_secret_is_absent(cls, value: Any) -> Any:
        if value == "" or (isinstance(value, SecretStr) and not value.get_secret_value()):
            return None
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        cleaned = [str(v).strip().lower().rstrip("/") for v in value]
        wrong = [v for v in cleaned if not ORIGIN.match(v)]
        if wrong:
            raise ValueError(
                f"{wrong[0]!r} is not an origin: write scheme://host[:port], e.g. "
                '"https://shop.tp.example" or "https://*.tp.example", without a path'
            )
        return tuple(cleaned)
