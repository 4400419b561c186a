"""What a connector is asked to send (OutboundReply) and what it answers (SendResult)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from omnidesk.inbound import Attachment


class OutboundReply(BaseModel):
    """One outbound message row, as the connector needs it to call its provider."""

    model_config = ConfigDict(frozen=True)

    message_id: int
    request_id: int | None
    to: str
    subject: str | None = None
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    automatic: bool = False
    # When the customer last wrote on this channel: chat providers only allow replies inside a
    # window after it (WeChat 48 h, Weibo 48 h), so a connector can refuse before calling.
    last_inbound_at: datetime | None = None


class SendResult(BaseModel):
    """The provider's answer to a successful send."""

    model_config = ConfigDict(frozen=True)

    provider_message_id: str
    status: str = "sent"
