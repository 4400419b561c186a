"""Every table, imported here so SQLModel.metadata is complete for Alembic."""

from omnidesk.models.base import UTCDateTime, utcnow
from omnidesk.models.connector import ConnectorRecord, ConnectorState
from omnidesk.models.customer import Customer, Identity
from omnidesk.models.event import Event
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
    "Direction",
    "Event",
    "Identity",
    "MailboxState",
    "Message",
    "Priority",
    "QuarantinedPayload",
    "RawPayload",
    "Request",
    "RequestStatus",
    "Stage",
    "UTCDateTime",
    "utcnow",
]
