"""Customers and their channel identities: one person, many addresses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnidesk.models.base import UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=8)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Identity(SQLModel, table=True):
    """An address a customer writes from: kind is email, phone (E.164), wechat, weibo or webchat."""

    __table_args__ = (UniqueConstraint("kind", "address", name="uq_identity_kind_address"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=32)
    address: str = Field(max_length=320)
    display_name: str | None = Field(default=None, max_length=200)
    opted_out: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
