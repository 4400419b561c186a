"""Every table, imported here so SQLModel.metadata is complete for Alembic."""

from omnidesk.models.base import UTCDateTime, utcnow
from omnidesk.models.connector import ConnectorRecord, ConnectorState
from omnidesk.models.customer import Customer, Identity
from omnidesk.models.event import Event
from omnidesk.models.message import (
    DeliveryStatus,
    Direction,
    Message,
    QuarantinedPayload,
    RawPayload,
    Stage,
)
from omnidesk.models.request import OPEN_STATUSES, Priority, Request, RequestStatus

__all__ = [
    "OPEN_STATUSES",
    "ConnectorRecord",
    "ConnectorState",
    "Customer",
    "DeliveryStatus",
    "Direction",
    "Event",
    "Identity",
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
