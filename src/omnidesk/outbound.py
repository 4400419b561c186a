"""What a connector is asked to send (OutboundReply) and what it answers (SendResult)."""

from __future__ import annotations

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


class SendResult(BaseModel):
    """The provider's answer to a successful send."""

    model_config = ConfigDict(frozen=True)

    provider_message_id: str
    status: str = "sent"
