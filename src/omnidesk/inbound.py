"""InboundMessage: the one normalised shape every connector produces and the pipeline sees."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sender(_Frozen):
    """Who wrote: an address on an identity kind (email, phone, wechat, weibo, webchat)."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    address: str = Field(min_length=1, max_length=320)
    display_name: str | None = None


class Attachment(_Frozen):
    """Metadata of one attachment; the bytes live elsewhere (storage_key or url)."""

    filename: str | None = None
    content_type: str = "application/octet-stream"
    size: int | None = None
    url: str | None = None
    storage_key: str | None = None
    content_id: str | None = None
    inline: bool = False


class ThreadHints(_Frozen):
    """What the provider tells us about the conversation a message belongs to."""

    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject_tag: int | None = None


class InboundMessage(_Frozen):
    """A customer's message, normalised. Built by connectors; turned into a row by intake.

    `automatic` marks machine-sent mail or keyword messages (auto-replies, bounces, opt-outs):
    stored and shown, but never answered automatically.
    """

    channel: str
    connector: str
    provider_message_id: str = Field(min_length=1, max_length=512)
    sender: Sender
    recipient: str | None = None
    sent_at: AwareDatetime | None = None
    received_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    thread: ThreadHints = ThreadHints()
    raw_ref: str | None = None
    automatic: str | None = None
    # Where the customer wrote from, when the channel knows (site chat: {"page_url", "page_title"}).
    context: dict[str, str] = Field(default_factory=dict)
