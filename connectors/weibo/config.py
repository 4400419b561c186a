"""The keys of a `channel = "weibo"` connector table."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from omnidesk.connector import ConnectorConfig

DEFAULT_API_BASE_URL = "https://m.api.weibo.com"
# The fan service API lives on m.api.weibo.com, the account API on api.weibo.com.
DEFAULT_ACCOUNT_API_URL = "https://api.weibo.com"
# Private-message media (protocols 3.2) is served from the upload host (unconfirmed).
DEFAULT_MEDIA_API_URL = "https://upload.api.weibo.com"


class WeiboConfig(ConnectorConfig):
    """One Weibo account in developer mode: its app signs the pushes, its token sends replies."""

    channel: Literal["weibo"] = "weibo"
    app_key: str = Field(pattern=r"^[0-9]{1,20}$")
    app_secret: SecretStr = Field(min_length=1)
    access_token: SecretStr = Field(min_length=1)
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL, pattern=r"^https?://[^/\s]+/?$")
    # Pushes carry a millisecond timestamp (protocols 3.1); older ones are replays.
    max_clock_skew_seconds: int = Field(default=300, ge=1, le=86_400)
    # The wiki says 48 h after the customer's last message; older pages said otherwise (3.3).
    reply_window_hours: int = Field(default=48, ge=1, le=24 * 30)

    def account_identity(self) -> tuple[str, ...]:
        return (self.channel, self.app_key)

    @property
    def account_api_url(self) -> str:
        """Where `check()` asks whose token this is: a fake serves both APIs on one host."""
        base = self.api_base_url.rstrip("/")
        return DEFAULT_ACCOUNT_API_URL if base == DEFAULT_API_BASE_URL else base

    @property
    def media_api_url(self) -> str:
        """Where media is fetched from: a fake serves it on its one host too."""
        base = self.api_base_url.rstrip("/")
        return DEFAULT_MEDIA_API_URL if base == DEFAULT_API_BASE_URL else base
