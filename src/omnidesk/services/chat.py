"""The database side of live chat: a visitor's history by address, the chat's state, read marks.

`DeskChatBook` is handed to a chat connector's routes beside the Intake (as `DeskMailboxBook` is
to a mailbox poller) and, like it, owns its transactions. A visitor is one identity address on
the connector ("visitor:<id>" or "user:<shop user id>"); their history is every message in from
that address and out to it, ordered by message id (the `seq` a chat client resumes after).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from omnidesk.db import unit_of_work
from omnidesk.models import (
    Agent,
    DeliveryStatus,
    Direction,
    Message,
    Request,
    utcnow,
)
from omnidesk.services import chat_contact, events, sla

if TYPE_CHECKING:
    from omnidesk.desk import Desk

MAX_HISTORY = 500
SYSTEM_AUTHOR = "system"
_READABLE = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


@dataclass(frozen=True)
class ChatLine:
    """One message of a chat as the visitor sees it."""

    id: int
    inbound: bool
    author: str  # "customer", "system" (the bot) or an agent's username
    author_name: str | None
    kind: str
    text: str
    at: datetime
    provider_message_id: str | None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # Agent lines: the visitor's last message before this one (the agent has read up to it).
    read_up_to: int | None = None


@dataclass(frozen=True)
class ChatState:
    """bot, queued, agent or after_hours; `eta` is when a person is expected to answer."""

    state: str
    eta: datetime | None = None
    # After hours: when a person answers, in the desk's words and zone ("明天 09:00（北京时间）"),
    # per language; the widget shows it as it is and never reads a day off the visitor's clock.
    eta_text: dict[str, str] | None = None
    time_zone: str | None = None


class ChatBook(Protocol):
    """What a chat connector reads and records besides storing messages (Intake)."""

    def history(self, connector: str, address: str, after: int = 0) -> list[ChatLine]:
        """The visitor's messages with id > after, oldest first (at most MAX_HISTORY)."""
        ...

    def line(self, connector: str, address: str, message_id: int) -> ChatLine | None:
        """One message of this visitor's chat (None: not theirs, or gone)."""
        ...

    def state(self, connector: str, address: str) -> ChatState:
        """Who answers the visitor now."""
        ...

    def mark_read(self, connector: str, address: str, up_to: int) -> int:
        """Record that the visitor read our messages up to this id; returns how many changed."""
        ...

    def add_contact(
        self, connector: str, address: str, name: str | None, email: str | None, phone: str | None
    ) -> list[str]:
        """Attach contact details to the visitor's customer; returns notes on possible matches."""
        ...

    def link(self, anonymous: str, known: str) -> None:
        """The anonymous visitor signed in as a known customer: one customer from now on."""
        ...

    def signing_keys(self, purpose: str) -> list[bytes]:
        """Keys for signing tokens of this purpose, newest last (from OMNIDESK_SECRET_KEY)."""
        ...


class DeskChatBook:
    """The ChatBook backed by the desk's database."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.settings = desk.settings

    def _connector_id(self, name: str) -> int:
        connector_id = self.desk.connector_id(name)
        if connector_id is None:
            raise LookupError(f"unknown connector {name!r}")
        return connector_id

    def history(self, connector: str, address: str, after: int = 0) -> list[ChatLine]:
        """See `ChatBook.history`."""
        with unit_of_work(self.settings) as session:
            stmt = _of_visitor(self._connector_id(connector), address).where(
                col(Message.id) > after
            )
            rows = list(session.exec(stmt.order_by(col(Message.id)).limit(MAX_HISTORY)))
            names = _agent_names(session, rows)
            return [_line(m, names) for m in rows]

    def line(self, connector: str, address: str, message_id: int) -> ChatLine | None:
        """See `ChatBook.line`."""
        with unit_of_work(self.settings) as session:
            stmt = _of_visitor(self._connector_id(connector), address).where(
                Message.id == message_id
            )
            message = session.exec(stmt).first()
            if message is None:
                return None
            read_up_to = None
            if message.direction == Direction.OUTBOUND and message.author != SYSTEM_AUTHOR:
                read_up_to = _last_inbound_before(session, message)
            return _line(message, _agent_names(session, [message]), read_up_to)

    def state(self, connector: str, address: str) -> ChatState:
        """See `ChatBook.state`."""
        with unit_of_work(self.settings) as session:
            request = _current_request(session, self._connector_id(connector), address)
            zone = self.desk.config.hours["default"].time_zone
            if request is None or not request.status.is_open or request.bot_active:
                return ChatState("bot", time_zone=zone)
            if _agent_answered(session, request):
                return ChatState("agent", time_zone=zone)
            now = utcnow()
            hours = sla.hours_of(session, self.desk.config, request.team)
            if hours.is_open(now):
                return ChatState("queued", request.first_response_due, time_zone=hours.time_zone)
            opening = hours.next_opening(now)
            text = {lang: hours.describe_with_zone(opening, now, lang) for lang in ("zh", "en")}
            return ChatState("after_hours", opening, text, hours.time_zone)

    def mark_read(self, connector: str, address: str, up_to: int) -> int:
        """See `ChatBook.mark_read`.

        The visitor can read a message before the send worker records it sent (the socket gets
        it as the worker publishes), so rows still `sending` are marked too; `mark_sent` keeps
        the higher status. A `pending` row was not sent: it stays for the worker to send.
        """
        with unit_of_work(self.settings) as session:
            stmt = (
                select(Message)
                .where(Message.connector_id == self._connector_id(connector))
                .where(Message.direction == Direction.OUTBOUND, Message.recipient == address)
                .where(col(Message.id) <= up_to, col(Message.status).in_(_READABLE))
                .with_for_update()
            )
            read = list(session.exec(stmt))
            now = utcnow()
            for message in read:
                message.status = DeliveryStatus.READ
                message.updated_at = now
                session.add(message)
                events.record(
                    session,
                    "reply_read",
                    request_id=message.request_id,
                    message_id=message.id,
                    connector_id=message.connector_id,
                    status=str(DeliveryStatus.READ),
                )
        return len(read)

    def add_contact(
        self, connector: str, address: str, name: str | None, email: str | None, phone: str | None
    ) -> list[str]:
        """See `ChatBook.add_contact`."""
        with unit_of_work(self.settings) as session:
            return chat_contact.attach(
                session, self._connector_id(connector), address, name, email, phone
            )

    def link(self, anonymous: str, known: str) -> None:
        """See `ChatBook.link`."""
        with unit_of_work(self.settings) as session:
            chat_contact.link(session, anonymous, known)

    def signing_keys(self, purpose: str) -> list[bytes]:
        """See `ChatBook.signing_keys`: HMAC of the purpose under each installation key."""
        from omnidesk.secrets import installation_keys

        return [
            hmac.new(key, f"omnidesk:{purpose}".encode(), hashlib.sha256).digest()
            for key in installation_keys(self.settings)
        ]


def _of_visitor(connector_id: int, address: str) -> Any:
    inbound = (col(Message.direction) == Direction.INBOUND) & (col(Message.sender) == address)
    outbound = (col(Message.direction) == Direction.OUTBOUND) & (col(Message.recipient) == address)
    return (
        select(Message)
        .where(Message.connector_id == connector_id, or_(inbound, outbound))
        .where(col(Message.status) != DeliveryStatus.FAILED)
    )


def _agent_names(session: Session, rows: list[Message]) -> dict[str, str]:
    usernames = {m.author for m in rows if m.direction == Direction.OUTBOUND}
    usernames.discard(SYSTEM_AUTHOR)
    if not usernames:
        return {}
    stmt = select(Agent.username, Agent.display_name).where(col(Agent.username).in_(usernames))
    return {username: name or username for username, name in session.exec(stmt)}


def _line(message: Message, names: dict[str, str], read_up_to: int | None = None) -> ChatLine:
    inbound = message.direction == Direction.INBOUND
    return ChatLine(
        id=message.id,  # type: ignore[arg-type]
        inbound=inbound,
        author=message.author,
        author_name=None if inbound else names.get(message.author),
        kind=message.kind,
        text=message.text,
        at=message.received_at or message.sent_at or message.created_at,
        provider_message_id=message.provider_message_id,
        attachments=list(message.attachments),
        read_up_to=read_up_to,
    )


def _last_inbound_before(session: Session, message: Message) -> int | None:
    stmt = select(func.max(Message.id)).where(
        Message.connector_id == message.connector_id,
        Message.direction == Direction.INBOUND,
        Message.sender == message.recipient,
        col(Message.id) < message.id,
    )
    return session.exec(stmt).first()


def _current_request(session: Session, connector_id: int, address: str) -> Request | None:
    stmt = (
        select(Message.request_id)
        .where(Message.connector_id == connector_id, Message.direction == Direction.INBOUND)
        .where(Message.sender == address, col(Message.request_id).is_not(None))
        .order_by(col(Message.id).desc())
    )
    request_id = session.exec(stmt).first()
    return session.get(Request, request_id) if request_id is not None else None


def _agent_answered(session: Session, request: Request) -> bool:
    stmt = select(Message.id).where(
        Message.request_id == request.id,
        Message.direction == Direction.OUTBOUND,
        col(Message.author) != SYSTEM_AUTHOR,
    )
    return session.exec(stmt).first() is not None
