"""The keys of a `channel = "twilio"` connector table."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from omnidesk.connector import ConnectorConfig

E164 = r"^\+[1-9]\d{1,14}$"


class TwilioConfig(ConnectorConfig):
    channel: Literal["twilio"] = "twilio"
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr = Field(min_length=1)
    from_number: str | None = Field(default=None, pattern=E164)
    messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    api_base_url: str = Field(default="https://api.twilio.com", pattern=r"^https?://[^/\s]+/?$")
    status_callbacks: bool = True
    # Voice calls: the greeting's language (auto: zh for +86/+852/+853/+886, else en) and the
    # longest voicemail; Twilio only transcribes recordings shorter than 120 s (protocols 1.9).
    voice_language: Literal["auto", "zh", "en"] = "auto"
    voice_max_message_seconds: int = Field(default=110, ge=5, le=3600)

    @model_validator(mode="after")
    def _has_a_sender(self) -> TwilioConfig:
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("set from_number or messaging_service_sid")
        return self

    def account_identity(self) -> tuple[str, ...]:
        return (
            self.channel,
            self.account_sid,
            self.from_number or self.messaging_service_sid or "",
        )
