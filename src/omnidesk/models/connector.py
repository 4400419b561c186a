"""Connector records: the channel accounts an admin configured (TOML file or console)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from omnidesk.models.base import EnumString, UTCDateTime, utcnow


class ConnectorState(StrEnum):
    READY = "ready"
    RETRYING = "retrying"
    NEEDS_REAUTH = "needs_reauth"
    ERROR = "error"
    DISABLED = "disabled"


class ConnectorRecord(SQLModel, table=True):
    __tablename__ = "connector"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=63, unique=True)
    channel: str = Field(max_length=32)
    source: str = Field(default="file", max_length=16)
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    config_version: int = 1
    enabled: bool = True
    state: ConnectorState = Field(
        default=ConnectorState.READY, sa_type=EnumString(ConnectorState, 16)
    )
    state_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
