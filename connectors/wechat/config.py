"""The keys of a `channel = "wechat"` connector table (one WeChat Official Account)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from omnidesk.connector import ConnectorConfig

# The console asks for a Token of 3-32 letters and digits (unconfirmed as a hard rule, so we only
# refuse what cannot be one) and generates a 43-character EncodingAESKey.
TOKEN = re.compile(r"^\S{3,128}$")
ENCODING_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"


class WeChatConfig(ConnectorConfig):
    """An Official Account: API credentials, the push Token and, in safe mode, the AES key.

    `encoding_aes_key` set means safe mode (pushes must carry `msg_signature` and are decrypted);
    absent means plaintext mode. `previous_encoding_aes_key` is tried after the current one while
    a key rotation settles (protocols 2.2).
    """

    channel: Literal["wechat"] = "wechat"
    app_id: str = Field(pattern=r"^wx[0-9a-f]{16}$")
    app_secret: SecretStr = Field(min_length=1)
    token: SecretStr
    encoding_aes_key: SecretStr | None = None
    previous_encoding_aes_key: SecretStr | None = None
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL, pattern=r"^https?://[^/\s]+/?$")
    max_clock_skew_seconds: int = Field(default=300, ge=30, le=3600)

    @field_validator("encoding_aes_key", "previous_encoding_aes_key", mode="before")
    @classmethod
    def _empty_key_is_absent(cls, value: Any) -> Any:
        # `encoding_aes_key = "${WECHAT_AES_KEY}"` with an empty variable means plaintext mode.
        if value == "" or (isinstance(value, SecretStr) and not value.get_secret_value()):
            return None
        return value

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN.match(value.get_secret_value()):
            raise ValueError("token is the console's Token: 3-32 letters or digits, no spaces")
        return value

    @field_validator("encoding_aes_key", "previous_encoding_aes_key")
    @classmethod
    def _aes_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not ENCODING_AES_KEY.match(value.get_secret_value()):
            raise ValueError("an EncodingAESKey is 43 letters or digits")
        return value

    @model_validator(mode="after")
    def _previous_needs_current(self) -> WeChatConfig:
        if self.previous_encoding_aes_key is not None and self.encoding_aes_key is None:
            raise ValueError("previous_encoding_aes_key needs encoding_aes_key (safe mode)")
        return self

    @property
    def safe_mode(self) -> bool:
        return self.encoding_aes_key is not None

    def aes_keys(self) -> tuple[str, ...]:
        """The keys to try on a safe-mode push, current first; empty in plaintext mode."""
        keys = (self.encoding_aes_key, self.previous_encoding_aes_key)
        return tuple(k.get_secret_value() for k in keys if k is not None)

    def account_identity(self) -> tuple[str, ...]:
        return (self.channel, self.app_id)
