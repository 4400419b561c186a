"""Every table, imported here so SQLModel.metadata is complete for Alembic."""

from omnidesk.models.auth import ApiToken, AuditLog, Credential, LoginAttempt, WebSession
from omnidesk.models.base import UTCDateTime, utcnow
from omnidesk.models.connector import ConnectorRecord, ConnectorState
from omnidesk.models.customer import Customer, Identity
from omnidesk.models.desk_setting import DeskSetting, DeskSettingsVersion, SettingKind
from omnidesk.models.event import Event
from omnidesk.models.feedback import FollowUp, FollowUpKind, FollowUpStatus, Survey, SurveyStatus
from omnidesk.models.mailbox import MailboxState
from omnidesk.models.message import (
    DeliveryStatus,
    Direction,
    Message,
    QuarantinedPayload,
    RawPayload,
    Stage,
)
from omnidesk.models.request import OPEN_STATUSES, Priority, Request, RequestStatus
from omnidesk.models.team import (
    Agent,
    AgentTeam,
    Availability,
    Correction,
    Role,
    RoutingRule,
    Team,
)

__all__ = [
    "OPEN_STATUSES",
    "ApiToken",
    "AuditLog",
    "Credential",
    "LoginAttempt",
    "WebSession",
    "Agent",
    "AgentTeam",
    "Availability",
    "Correction",
    "Role",
    "RoutingRule",
    "Team",
    "ConnectorRecord",
    "ConnectorState",
    "Customer",
    "DeliveryStatus",
    "DeskSetting",
    "DeskSettingsVersion",
    "Direction",
    "Event",
    "FollowUp",
    "FollowUpKind",
    "FollowUpStatus",
    "Identity",
    "MailboxState",
    "Message",
    "Priority",
    "QuarantinedPayload",
    "RawPayload",
    "Request",
    "RequestStatus",
    "SettingKind",
    "Stage",
    "Survey",
    "SurveyStatus",
    "UTCDateTime",
    "utcnow",
]
