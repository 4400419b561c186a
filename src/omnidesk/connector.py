"""The connector contract, the base of every connector's config, and the registry of channels.

A connector is one configured channel account. Its module lives in `connectors/<channel>/` and is
found through the `omnidesk.connectors` entry points; the core never imports it by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from omnidesk.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import APIRouter, Request
    from starlette.types import ASGIApp

    from omnidesk.inbound import Attachment, InboundMessage
    from omnidesk.outbound import OutboundReply, SendResult
    from omnidesk.services.chat import ChatBook

log = structlog.get_logger(__name__)

CONNECTOR_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class ConnectorConfig(BaseModel):
    """Keys every `[[connectors]]` table has; each channel subclasses it with its own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: ClassVar[int] = 1

    name: str = Field(pattern=CONNECTOR_NAME)
    channel: str
    enabled: bool = True

    def account_identity(self) -> tuple[str, ...]:
        """What makes two connectors the same provider account (refused as `already_configured`)."""
        return (self.channel, self.name)

    @classmethod
    def migrate(cls, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Upgrade a stored config of an older version; the base has nothing to upgrade."""
        return data

    def redacted(self) -> dict[str, Any]:
        """The config as JSON-able data with every secret replaced by `**********`."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(mode="python").items():
            if isinstance(value, SecretStr):
                out[key] = "**********" if value.get_secret_value() else ""
            else:
                out[key] = value
        return out


@dataclass(frozen=True)
class ConnectorEnv:
    """What a connector may know of the installation it runs in."""

    public_url: str
    data_dir: Path
    redis_url: str | None = None
    http_timeout: float = 10.0
    extras: dict[str, Any] = field(default_factory=dict)

    def webhook_url(self, connector_name: str, path: str = "") -> str:
        """The public URL a provider calls for this connector."""
        base = f"{self.public_url.rstrip('/')}/webhooks/{connector_name}"
        return f"{base}/{path.lstrip('/')}" if path else base


@dataclass(frozen=True)
class Accepted:
    """What intake did with an inbound message."""

    message_id: int
    duplicate: bool


class Intake(Protocol):
    """The desk's front door, handed to a connector's webhooks and pollers."""

    def accept(self, inbound: InboundMessage, raw: bytes, content_type: str) -> Accepted:
        """Store the message and its raw payload (idempotent), commit, then enqueue ingestion."""
        ...

    def update_delivery(
        self,
        connector: str,
        provider_message_id: str,
        status: str,
        error_code: str | None = None,
        error_reason: str | None = None,
    ) -> bool:
        """Record a provider's delivery report for one of our outbound messages."""
        ...

    def quarantine(self, connector: str, raw: bytes, content_type: str, reason: str) -> int:
        """Keep a payload that cannot be read, with the reason, for an admin to look at."""
        ...

    def public_url(self, request: Request) -> str:
        """The URL the provider called, rebuilt from OMNIDESK_PUBLIC_URL (signatures cover it)."""
        ...


@runtime_checkable
class Connector(Protocol):
    """A configured channel account: checks itself and sends replies."""

    channel: ClassVar[str]
    config_class: ClassVar[type[ConnectorConfig]]
    identity_kind: ClassVar[str]

    config: ConnectorConfig

    def check(self) -> None:
        """Talk to the provider once; raise CannotConnect or InvalidAuth(field=...)."""
        ...

    def send(self, reply: OutboundReply) -> SendResult:
        """Send one reply; raise TransientError or PermanentSendError."""
        ...


@runtime_checkable
class WebhookConnector(Connector, Protocol):
    """A connector whose provider calls us; its router is mounted at /webhooks/{name}/."""

    def webhooks(self, intake: Intake) -> APIRouter:
        """The routes the provider calls."""
        ...


@runtime_checkable
class ChatConnector(Connector, Protocol):
    """A connector browsers talk to directly (site chat); its routes, WebSocket included, are
    mounted at /webchat/{name}/."""

    def chat(self, intake: Intake, book: ChatBook) -> ASGIApp:
        """The app the widget calls (its script, sessions, uploads, the live socket), with the
        connector's own cross-origin policy."""
        ...

    def notify(self, address: str, notice: dict[str, Any]) -> None:
        """Tell a visitor's open sockets something live (`{"type": "typing", "from": "agent"}`)."""
        ...


@runtime_checkable
class MediaConnector(Connector, Protocol):
    """A connector whose messages carry media the provider keeps (an attachment with a `url`
    or a media id in `content_id`, no stored bytes): omnidesk.services.media fetches it."""

    def fetch_media(self, attachment: Attachment, max_bytes: int) -> tuple[bytes, str]:
        """The media's bytes and content type, fetched with the connector's credentials.

        Raises:
            MediaUnavailable: unknown or expired id, more than `max_bytes`, credentials refused.
            TransientError: the provider cannot be reached now.
        """
        ...


class Registry:
    """Channel name → connector class, read from the `omnidesk.connectors` entry points."""

    def __init__(self, classes: dict[str, type[Connector]], unavailable: dict[str, str]) -> None:
        self.classes = classes
        self.unavailable = unavailable

    def get(self, channel: str) -> type[Connector]:
        if channel in self.classes:
            return self.classes[channel]
        if channel in self.unavailable:
            raise ConfigError(f"channel {channel!r} is unavailable: {self.unavailable[channel]}")
        known = ", ".join(sorted(self.classes)) or "none"
        raise ConfigError(f"unknown channel {channel!r} (known: {known})")

    def build(self, data: dict[str, Any], env: ConnectorEnv) -> Connector:
        """Validate one connector table with its channel's schema and construct the connector."""
        cls = self.get(str(data.get("channel", "")))
        config = cls.config_class.model_validate(data)
        return cls(config, env)  # type: ignore[call-arg]


def load_registry() -> Registry:
    """Read every installed connector; a duplicate channel is fatal, a missing SDK is reported."""
    classes: dict[str, type[Connector]] = {}
    unavailable: dict[str, str] = {}
    for ep in entry_points(group="omnidesk.connectors"):
        try:
            cls = ep.load()
        except ImportError as exc:
            unavailable[ep.name] = f"install the package it needs ({exc.name or exc})"
            log.warning("connector_unavailable", channel=ep.name, reason=str(exc))
            continue
        except AttributeError as exc:
            unavailable[ep.name] = f"its entry point {ep.value!r} is broken ({exc})"
            log.error("connector_unavailable", channel=ep.name, reason=str(exc))
            continue
        if cls.channel != ep.name:
            raise ConfigError(
                f"entry point {ep.name!r} names a connector of channel {cls.channel!r}"
            )
        if ep.name in classes and classes[ep.name] is not cls:
            raise ConfigError(f"two connectors claim channel {ep.name!r}")
        classes[ep.name] = cls
    return Registry(classes, unavailable)


def valid_name(name: str) -> bool:
    return re.match(CONNECTOR_NAME, name) is not None
