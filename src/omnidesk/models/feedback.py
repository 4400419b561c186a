"""Follow-up after resolution: satisfaction surveys and the follow-up tasks they (or complaints)
open for a team's lead.

Agents' feedback tags (resolution, root cause, note) are not a table: they are "feedback_tagged"
events. The event log is already the desk's feedback record and what the reports read; a tag is
written once and never edited in place (a new tag is a new event, the latest one counts), so a
table would only hold a second copy that could drift. A survey, in contrast, has a life of its
own (scheduled, sent, answered, skipped, expired), a link token and a due time the workers scan
by index, so it is a row; its rating is also written as a "rated" event for the reports.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnidesk.models.base import EnumString, UTCDateTime, utcnow


class SurveyStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    EXPIRED = "expired"


class Survey(SQLModel, table=True):
    """One satisfaction survey (回访) of a resolved request, through the request's channel."""

    __table_args__ = (
        Index("ix_survey_due", "status", "scheduled_for"),
        Index("ix_survey_identity", "identity_id", "status"),
        Index("ix_survey_customer_sent", "customer_id", "sent_at"),
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_survey_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    identity_id: int | None = Field(default=None, foreign_key="identity.id")
    connector_id: int = Field(foreign_key="connector.id")
    channel: str = Field(max_length=32)
    language: str = Field(default="zh", max_length=8)
    status: SurveyStatus = Field(
        default=SurveyStatus.SCHEDULED, sa_type=EnumString(SurveyStatus, 16)
    )
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # After this the survey takes no answer: its link expires, a late reply is a new message.
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    score: int | None = None
    comment: str | None = Field(default=None, sa_type=Text)
    answered_via: str | None = Field(default=None, max_length=16)  # "message" or "link"
    answer_message_id: int | None = Field(default=None, foreign_key="message.id")
    # The random part of the email link's signed token; a token naming another id is refused.
    token_id: str | None = Field(default=None, max_length=64)
    outbound_message_id: int | None = Field(default=None, foreign_key="message.id")
    skip_reason: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowUpKind(StrEnum):
    LOW_RATING = "low_rating"
    NEGATIVE_COMMENT = "negative_comment"
    COMPLAINT = "complaint"


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class FollowUp(SQLModel, table=True):
    """A task for the team's lead (or, without one, the team): call back, check, make good.

    One per survey at most (`survey_id` is unique; NULL for complaint follow-ups, which may
    recur when a complaint is resolved again after being reopened).
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("survey_id", name="uq_follow_up_survey"),
        Index("ix_follow_up_status_due", "status", "due_at"),
        Index("ix_follow_up_request_kind", "request_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id")
    survey_id: int | None = Field(default=None, foreign_key="survey.id")
    kind: FollowUpKind = Field(sa_type=EnumString(FollowUpKind, 24))
    assignee: str | None = Field(default=None, max_length=64)
    team: str | None = Field(default=None, max_length=64)
    reason: str = Field(sa_type=Text)
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: FollowUpStatus = Field(
        default=FollowUpStatus.OPEN, sa_type=EnumString(FollowUpStatus, 8)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, sa_type=Text)
