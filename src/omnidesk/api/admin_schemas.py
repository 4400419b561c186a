"""The shapes of the admin side of /api/v1: teams, routing rules, connectors, quarantine,
the classifier, the audit log and the desk's settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnidesk.api.schemas import Out, Page

# -- teams and routing rules -------------------------------------------------------------------


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=63)
    display_name: str | None = Field(default=None, max_length=200)
    hours: str = "default"
    lead: str | None = None


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    hours: str | None = None
    lead: str | None = None


class TeamOut(Out):
    id: int
    name: str
    display_name: str | None
    hours: str
    lead: str | None
    source: str
    members: list[str]
    created_at: datetime


class RuleIn(BaseModel):
    """A routing rule: every condition list that is not empty must hold (any value of it)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    category: list[str] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)
    priority: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    team: str | None = None
    set_priority: Literal["urgent", "high", "normal", "low"] | None = None
    sla: str | None = None
    enabled: bool = True


class RuleOut(Out):
    id: int
    position: int
    name: str
    conditions: dict[str, list[str]]
    team: str | None
    priority: str | None
    sla: str | None
    enabled: bool
    source: str
    created_at: datetime


class RuleOrderIn(BaseModel):
    ids: list[int] = Field(description="Every console rule's id, in the new order")


# -- connectors, quarantine, classifier, audit, configuration ---------------------------------


class ConnectorOut(Out):
    id: int | None
    name: str
    channel: str
    source: Literal["file", "console"] | str
    enabled: bool
    live: bool = Field(description="Loaded in this server and able to take webhooks")
    state: str
    state_reason: str | None
    config: dict[str, Any] = Field(description="Secrets appear as ********** and are write-only")
    webhook_url: str | None
    webhook_urls: list[str]
    created_at: datetime | None
    updated_at: datetime | None


class ConnectorCheckOut(Out):
    ok: bool
    state: str
    errors: dict[str, str] = Field(default_factory=dict)


class ConnectorDiagnostics(ConnectorOut):
    counters: dict[str, int]
    last_errors: list[dict[str, Any]]


class QuarantineOut(Out):
    id: int
    connector_id: int | None
    connector: str | None
    raw_payload_id: int
    message_id: int | None
    reason: str
    status: str
    content_type: str | None
    size: int | None
    created_at: datetime


class QuarantineDetail(QuarantineOut):
    payload: str
    payload_encoding: Literal["text", "base64"]


class QuarantinePage(Page):
    items: list[QuarantineOut]


class ModelVersionOut(Out):
    version: str
    active: bool
    metrics: dict[str, Any]


class ClassifierOut(Out):
    active: str | None
    versions: list[ModelVersionOut]
    untrained_corrections: int


class RetrainIn(BaseModel):
    force: bool = Field(default=False, description="Activate even if it scores lower")


class RetrainOut(Out):
    version: str
    activated: bool
    reason: str
    macro_f1: float
    previous: str | None
    corrections_used: int
    corrections_dropped: int


class AuditOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]


class AuditPage(Page):
    items: list[AuditOut]


class SettingOrigin(Out):
    """Where a setting comes from. A console entry that `overrides_file` goes back to the
    file's (or the built-in) entry when it is deleted; any other console entry disappears."""

    source: Literal["default", "file", "console"] = "file"
    overrides_file: bool = False
    updated_at: datetime | None = None
    updated_by: str | None = None


class HoursOut(SettingOrigin):
    name: str
    time_zone: str
    opens: str
    closes: str
    workdays: list[int] = Field(description="0 = Monday … 6 = Sunday")
    holidays: list[date] = Field(description="With the calendar's public holidays")
    extra_workdays: list[date] = Field(description="With the calendar's make-up workdays")
    table: dict[str, Any] | None = Field(
        default=None,
        description="The entry as written (the file's [[hours]] table or the console's): "
        "what PUT /settings/hours/{name} takes",
    )


class TemplateOut(SettingOrigin):
    name: str
    language: str
    text: str
    editable: bool = Field(default=False, description="The console can change this template")
    placeholders: list[str] = Field(
        default_factory=list, description="The $placeholders this template may use"
    )


class TemplateIn(BaseModel):
    text: str = Field(description="The template's text; $placeholder values are filled in")


class KnowledgeOut(Out):
    enabled: bool
    directory: str
    thresholds: dict[str, float]
    entries: list[dict[str, Any]]
    error: str | None = None
