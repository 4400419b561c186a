"""The request: the one record a desk works on, whatever channel it came from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnidesk.models.base import EnumString, UTCDateTime, utcnow


class RequestStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self in (RequestStatus.NEW, RequestStatus.OPEN, RequestStatus.PENDING)


OPEN_STATUSES = (RequestStatus.NEW, RequestStatus.OPEN, RequestStatus.PENDING)


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Request(SQLModel, table=True):
    __table_args__ = (
        Index("ix_request_customer_status", "customer_id", "status"),
        Index("ix_request_created_at", "created_at"),
        UniqueConstraint("complaint_ref", name="uq_request_complaint_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    channel: str = Field(max_length=32)
    connector_id: int = Field(foreign_key="connector.id")
    subject: str | None = Field(default=None, sa_type=Text)
    category: str | None = Field(default=None, max_length=32)
    category_confidence: float | None = None
    needs_triage: bool = False
    priority: Priority = Field(default=Priority.NORMAL, sa_type=EnumString(Priority, 8))
    language: str | None = Field(default=None, max_length=8)
    status: RequestStatus = Field(default=RequestStatus.NEW, sa_type=EnumString(RequestStatus, 16))
    team: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=64)
    sla_policy: str | None = Field(default=None, max_length=63)
    complaint_ref: str | None = Field(default=None, max_length=32)
    escalation_level: int = 0
    # A live-chat request the bot still answers: not a task in any queue until it is handed off.
    # The customer message that opened the request, written in the transaction that opens it:
    # the one that gets the acknowledgement, even if an earlier message of the customer's is
    # ingested later (lost in a Redis restart and swept back). No foreign key: message and
    # request point at each other.
    opening_message_id: int | None = Field(default=None)
    bot_active: bool = False
    sla_warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_message_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
