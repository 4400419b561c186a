"""The keys of a `channel = "email"` connector table: one IMAP mailbox in, one SMTP server out."""

from __future__ import annotations

import ssl
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from omnidesk.connector import ConnectorConfig

Security = Literal["ssl", "starttls", "none"]
HOST = r"^[A-Za-z0-9._:\[\]-]+$"
# RFC 2177: servers may drop an idle client after 30 minutes; re-issue IDLE before that.
MAX_IDLE_TIMEOUT = 29 * 60
DEFAULT_IDLE_TIMEOUT = 25 * 60


class EmailConfig(ConnectorConfig):
    """One mailbox: where mail comes in (IMAP), how replies go out (SMTP), and how it is worked."""

    channel: Literal["email"] = "email"
    imap_host: str = Field(min_length=1, max_length=253, pattern=HOST)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Security = "ssl"
    username: str = Field(min_length=1, max_length=320)
    password: SecretStr | None = None
    oauth2_token: SecretStr | None = None
    folder: str = Field(default="INBOX", min_length=1, max_length=255)
    processed_folder: str = Field(default="", max_length=255)
    smtp_host: str = Field(min_length=1, max_length=253, pattern=HOST)
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Security = "ssl"
    from_address: str = Field(min_length=3, max_length=400)
    # Optional extras.
    smtp_username: str | None = Field(default=None, min_length=1, max_length=320)
    smtp_password: SecretStr | None = None
    batch_size: int = Field(default=25, ge=1, le=500)
    poll_interval: float = Field(default=60.0, ge=0.05, le=3600)
    idle_timeout: float = Field(default=DEFAULT_IDLE_TIMEOUT, gt=0, le=MAX_IDLE_TIMEOUT)
    max_attachment_mb: int = Field(default=25, ge=1, le=1024)
    verify_tls: bool = True
    ca_file: Path | None = None
    auto_reply_limit_per_day: int = Field(default=5, ge=0, le=1000)
    # RFC 3834 5.1 / protocols 4.3: automatic replies go out with an empty envelope sender so
    # they never bounce back into a loop. Some submission servers refuse MAIL FROM:<>.
    auto_reply_null_sender: bool = True

    @field_validator("from_address")
    @classmethod
    def _one_address(cls, value: str) -> str:
        _name, address = parseaddr(value)
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ValueError("must be an address such as 'TP官方客服 <service@tp.example>'")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> EmailConfig:
        if _is_set(self.password) == _is_set(self.oauth2_token):
            raise ValueError("set exactly one of password and oauth2_token")
        if self.processed_folder and self.processed_folder == self.folder:
            raise ValueError("processed_folder must differ from folder")
        return self

    def account_identity(self) -> tuple[str, ...]:
        return (self.channel, self.imap_host.lower(), self.username.lower(), self.folder)

    @property
    def sender_address(self) -> str:
        """The bare address of `from_address` (SMTP envelope, Message-ID domain)."""
        return parseaddr(self.from_address)[1]

    @property
    def domain(self) -> str:
        return self.sender_address.rpartition("@")[2]

    @property
    def uses_oauth2(self) -> bool:
        """Log in with XOAUTH2 and `oauth2_token` (else with the password)."""
        return _is_set(self.oauth2_token)

    @property
    def smtp_login(self) -> str:
        return self.smtp_username or self.username

    @property
    def smtp_secret(self) -> SecretStr | None:
        """`smtp_password`, else the IMAP password; None means XOAUTH2 with the token."""
        if _is_set(self.smtp_password):
            return self.smtp_password
        return self.password if _is_set(self.password) else None

    @property
    def max_attachment_bytes(self) -> int:
        return self.max_attachment_mb * 1024 * 1024

    def tls_context(self) -> ssl.SSLContext:
        """The client TLS context for IMAP and SMTP (`ca_file` trusts a private CA)."""
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _is_set(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value())
