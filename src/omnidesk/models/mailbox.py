"""Mailbox bookkeeping: per connector and folder, the UIDVALIDITY and the highest imported UID."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnidesk.models.base import UTCDateTime, utcnow


class MailboxState(SQLModel, table=True):
    """Where a mailbox poller stopped (protocols 4.1: the key is mailbox, UIDVALIDITY, UID).

    IMAP UIDs and UIDVALIDITY are unsigned 32-bit numbers (RFC 3501 2.3.1.1): BigInteger.
    """

    __tablename__ = "mailbox_state"
    __table_args__ = (UniqueConstraint("connector_id", "folder", name="uq_mailbox_state_folder"),)

    id: int | None = Field(default=None, primary_key=True)
    connector_id: int = Field(foreign_key="connector.id")
    folder: str = Field(max_length=255)
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
