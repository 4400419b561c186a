"""The shapes /api/v1 reads and answers (people, requests, customers), as /docs shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnidesk.models import Availability, Priority, Role


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Problem(BaseModel):
    """A refused change: `errors` maps a field (or "base") to a stable snake_case code."""

    detail: str
    errors: dict[str, str] = Field(default_factory=dict)
    messages: dict[str, str] = Field(
        default_factory=dict, description="What is wrong with each field, in words (some errors)"
    )


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The provider refused the settings"},
    409: {"model": Problem, "description": "Conflicts with the desk's state"},
    422: {"description": "Invalid input (FastAPI's list of errors, or a Problem keyed by field)"},
}


class Page(Out):
    total: int
    limit: int
    offset: int


# -- agents and signing in ---------------------------------------------------------------------


class AgentOut(Out):
    id: int
    username: str
    display_name: str | None
    email: str | None
    role: Role
    categories: list[str]
    languages: list[str]
    channels: list[str]
    capacity: int
    availability: Availability
    active: bool
    source: str
    teams: list[str] = Field(default_factory=list)
    open_requests: int | None = None
    last_assigned_at: datetime | None = None
    created_at: datetime


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class DeskClock(BaseModel):
    """The desk's calendar as a page needs it: it never reads days off the browser's clock."""

    time_zone: str = Field(description="The desk's IANA zone: days and hours are counted in it")
    today: str = Field(description="Today's date in the desk's zone (YYYY-MM-DD)")
    now: datetime = Field(description="The server's clock (a page corrects its own by it)")
    open: bool = Field(description="Whether specialists are at work now (business hours)")
    next_opening: datetime = Field(description="Now when open, else when specialists return")


class Me(Out):
    agent: AgentOut
    auth: Literal["session", "token"]
    csrf_token: str | None = Field(
        default=None, description="Send it as X-CSRF-Token on POST/PUT/PATCH/DELETE (cookies)"
    )
    desk: DeskClock | None = None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Out):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret: shown this once, send as `Authorization: Bearer`")


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    password: str | None = Field(default=None, max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role = Role.AGENT
    teams: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    capacity: int = Field(default=10, ge=0, le=1000)


class AgentUpdate(BaseModel):
    """Only the keys sent change; `password` resets it (and signs the agent out)."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role | None = None
    teams: list[str] | None = None
    categories: list[str] | None = None
    languages: list[str] | None = None
    channels: list[str] | None = None
    capacity: int | None = Field(default=None, ge=0, le=1000)
    active: bool | None = None


class AvailabilityIn(BaseModel):
    availability: Availability


class AvailabilityOut(Out):
    username: str
    availability: Availability
    handed_back: list[int] = Field(description="Unanswered requests handed back to the team")


# -- requests and customers --------------------------------------------------------------------


class RequestOut(Out):
    id: int
    customer_id: int
    customer_name: str | None = None
    channel: str
    connector: str | None = None
    connector_id: int
    subject: str | None
    preview: str | None = None
    category: str | None
    category_confidence: float | None
    needs_triage: bool
    priority: str
    language: str | None
    status: str
    team: str | None
    assignee: str | None
    sla_policy: str | None
    complaint_ref: str | None
    escalation_level: int
    bot_active: bool = False
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    last_message_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RequestPage(Page):
    items: list[RequestOut]


class MessageOut(Out):
    id: int
    request_id: int | None
    customer_id: int | None
    identity_id: int | None
    connector_id: int
    channel: str
    direction: str
    kind: str
    author: str
    sender: str | None
    sender_name: str | None
    recipient: str | None
    subject: str | None
    text: str
    html: str | None
    attachments: list[dict[str, Any]]
    context: dict[str, Any] = {}
    automatic: str | None
    status: str
    error_code: str | None
    error_reason: str | None
    stage: str | None
    attempts: int
    sent_at: datetime | None
    received_at: datetime | None
    created_at: datetime


class EventOut(Out):
    id: int
    request_id: int | None
    message_id: int | None
    customer_id: int | None
    connector_id: int | None
    kind: str
    actor: str
    at: datetime
    data: dict[str, Any]


class IdentityOut(Out):
    id: int
    customer_id: int
    kind: str
    address: str
    display_name: str | None
    opted_out: bool
    last_seen_at: datetime | None


class CustomerOut(Out):
    id: int
    display_name: str | None
    language: str | None
    tags: list[str]
    merged_into_id: int | None
    created_at: datetime


class ReplyOption(Out):
    identity_id: int
    kind: str
    address: str
    channel: str
    connector: str
    default: bool


class RequestDetail(Out):
    request: RequestOut
    merged_into: int | None
    customer: CustomerOut | None
    identities: list[IdentityOut]
    requests: list[RequestOut] = Field(description="Every request of the customer")
    messages: list[MessageOut] = Field(description="Every message of the customer, any channel")
    events: list[EventOut] = Field(description="The history of every request of the customer")
    reply_options: list[ReplyOption]


class CustomerDetail(Out):
    customer: CustomerOut
    identities: list[IdentityOut]
    requests: list[RequestOut]


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    channel_identity_id: int | None = Field(
        default=None, description="Another identity of the customer (default: where they wrote)"
    )


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class CategoryIn(BaseModel):
    category: str


class AssigneeIn(BaseModel):
    assignee: str | None = Field(description="An agent's username, or null for the team queue")
    team: str | None = Field(default=None, description="Also move it to this team's queue")


class PriorityIn(BaseModel):
    priority: Priority
    reason: str = Field(min_length=1, max_length=500, description="Why (kept in the history)")


class StatusIn(BaseModel):
    status: Literal["open", "pending", "resolved"]
    note: str | None = Field(default=None, max_length=2000)


class MergeIn(BaseModel):
    into: int
