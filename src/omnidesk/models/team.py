"""Teams, agents and routing rules: who works on which requests (issue: routing and SLAs)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnidesk.models.base import EnumString, UTCDateTime, utcnow


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=63, unique=True)
    display_name: str | None = Field(default=None, max_length=200)
    hours: str = Field(default="default", max_length=63)
    lead: str | None = Field(default=None, max_length=64)
    source: str = Field(default="file", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Agent(SQLModel, table=True):
    """A person who answers requests. Skills empty = any category, language or channel."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role = Field(default=Role.AGENT, sa_type=EnumString(Role, 16))
    categories: list[str] = Field(default_factory=list, sa_type=JSON)
    languages: list[str] = Field(default_factory=list, sa_type=JSON)
    channels: list[str] = Field(default_factory=list, sa_type=JSON)
    capacity: int = 10
    availability: Availability = Field(
        default=Availability.OFFLINE, sa_type=EnumString(Availability, 16)
    )
    last_assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    active: bool = True
    source: str = Field(default="file", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgentTeam(SQLModel, table=True):
    __tablename__ = "agent_team"
    __table_args__ = (UniqueConstraint("agent_id", "team_id", name="uq_agent_team"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)


class RoutingRule(SQLModel, table=True):
    """One ordered rule: conditions → team, priority and SLA policy. First match wins."""

    __tablename__ = "routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    position: int = Field(index=True)
    name: str = Field(max_length=100)
    conditions: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    team: str | None = Field(default=None, max_length=63)
    priority: str | None = Field(default=None, max_length=8)
    sla: str | None = Field(default=None, max_length=63)
    enabled: bool = True
    source: str = Field(default="file", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Correction(SQLModel, table=True):
    """An agent's change of a request's category: training data for the classifier."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    text: str
    language: str | None = Field(default=None, max_length=8)
    from_category: str | None = Field(default=None, max_length=32)
    to_category: str = Field(max_length=32)
    actor: str = Field(max_length=64)
    model_version: str | None = Field(default=None, max_length=32)
    trained_in: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
