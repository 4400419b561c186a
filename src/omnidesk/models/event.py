"""Events: the append-only history of a request, its feedback record and audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from omnidesk.models.base import UTCDateTime, utcnow


class Event(SQLModel, table=True):
    __table_args__ = (Index("ix_event_kind_request", "kind", "request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    connector_id: int | None = Field(default=None, foreign_key="connector.id")
    kind: str = Field(max_length=48, index=True)
    actor: str = Field(default="system", max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
