"""Messages in and out, their raw payloads, and payloads held in quarantine."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnidesk.models.base import EnumString, UTCDateTime, utcnow


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Stage(StrEnum):
    """Where an inbound message is in the pipeline (see services.pipeline.STAGES)."""

    INGEST = "ingest"
    CLASSIFY = "classify"
    ROUTE = "route"
    RESPOND = "respond"
    RECORD = "record"
    DONE = "done"
    QUARANTINED = "quarantined"


class DeliveryStatus(StrEnum):
    """An outbound message's life; `rank` orders the provider's reports (they arrive unordered)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    RECEIVED = "received"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def terminal(self) -> bool:
        return self in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED, DeliveryStatus.READ)


_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
    DeliveryStatus.UNDELIVERED: 5,
    DeliveryStatus.FAILED: 5,
    DeliveryStatus.RECEIVED: 0,
}


class RawPayload(SQLModel, table=True):
    """The bytes a provider sent, kept as they came (durability contract §5)."""

    __tablename__ = "raw_payload"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    content_type: str = Field(max_length=128)
    size: int
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("connector_id", "provider_message_id", name="uq_message_provider_id"),
        Index("ix_message_stage", "stage", "stage_changed_at"),
        Index("ix_message_status", "status", "updated_at"),
        Index("ix_message_sender", "connector_id", "sender"),
        Index("ix_message_recipient", "connector_id", "recipient"),
        Index("ix_message_provider_id", "provider_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connector_id: int = Field(foreign_key="connector.id")
    channel: str = Field(max_length=32)
    direction: Direction = Field(sa_type=EnumString(Direction, 8))
    kind: str = Field(default="customer", max_length=32)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    identity_id: int | None = Field(default=None, foreign_key="identity.id")
    provider_message_id: str | None = Field(default=None, max_length=512)
    sender: str | None = Field(default=None, max_length=320)
    sender_kind: str | None = Field(default=None, max_length=32)
    sender_name: str | None = Field(default=None, max_length=200)
    recipient: str | None = Field(default=None, max_length=320)
    subject: str | None = Field(default=None, sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    html: str | None = Field(default=None, sa_type=Text)
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    thread: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Where the customer wrote from, as the channel knows it (site chat: the page's url and title).
    context: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    raw_payload_id: int | None = Field(default=None, foreign_key="raw_payload.id")
    automatic: str | None = Field(default=None, max_length=64)
    author: str = Field(default="customer", max_length=64)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Inbound: pipeline position and how often the sweeper had to push it on.
    stage: Stage | None = Field(default=None, sa_type=EnumString(Stage, 16))
    stage_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recoveries: int = 0
    # Outbound: delivery status, provider error and send attempts.
    status: DeliveryStatus = Field(
        default=DeliveryStatus.RECEIVED, sa_type=EnumString(DeliveryStatus, 16)
    )
    error_code: str | None = Field(default=None, max_length=64)
    error_reason: str | None = Field(default=None, sa_type=Text)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuarantinedPayload(SQLModel, table=True):
    """Input nobody could read: kept with its reason until an admin retries or discards it."""

    __tablename__ = "quarantined_payload"

    id: int | None = Field(default=None, primary_key=True)
    connector_id: int | None = Field(default=None, foreign_key="connector.id")
    raw_payload_id: int = Field(foreign_key="raw_payload.id")
    message_id: int | None = Field(default=None, foreign_key="message.id")
    reason: str = Field(sa_type=Text)
    status: str = Field(default="held", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
