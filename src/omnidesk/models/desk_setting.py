"""Desk settings edited in the admin console: business hours, SLA policies, templates, answers.

The TOML file stays the desk's base configuration; a `DeskSetting` row overlays one named entry
of it (same kind and key: it overrides the file's entry) or adds one the file does not have.
Deleting the row resets the entry to the file's. The row holds the entry as validated JSON, so
the file and the console go through the same pydantic models.

`DeskSettingsVersion` is one row whose counter is bumped in the same transaction as every
change: each process compares it with the version it last overlaid (one primary-key read), so
the API, the workers and the scheduler all see an edit without a restart.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnidesk.models.base import EnumString, UTCDateTime, utcnow


class SettingKind(StrEnum):
    HOURS = "hours"
    SLA = "sla"
    TEMPLATE = "template"
    KNOWLEDGE = "knowledge"


class DeskSetting(SQLModel, table=True):
    """One console-edited entry; `key` is its name (hours, SLA), "language/name" (template) or id
    (knowledge base entry)."""

    __tablename__ = "desk_setting"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_desk_setting_kind_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: SettingKind = Field(sa_type=EnumString(SettingKind, 16))
    key: str = Field(max_length=128)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str | None = Field(default=None, max_length=64)


class DeskSettingsVersion(SQLModel, table=True):
    """The single row (id 1) whose `version` goes up with every console change of a setting."""

    __tablename__ = "desk_settings_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
