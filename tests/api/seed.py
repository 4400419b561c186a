"""Data for the API tests, written straight to the real database: people, requests, payloads."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import (
    ConnectorRecord,
    Customer,
    Direction,
    Identity,
    Message,
    QuarantinedPayload,
    RawPayload,
    Request,
    RequestStatus,
    Role,
    Stage,
    utcnow,
)
from omnidesk.services import accounts, admin_directory
from omnidesk.settings import Settings
from tests.factories import CUSTOMER, TWILIO_NUMBER

PASSWORD = "correct horse battery staple"
TEAMS = ("orders", "billing")
_numbers = itertools.count(1000)


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    token: str
    password: str = PASSWORD

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Seeded:
    request_id: int
    customer_id: int
    identity_id: int
    message_id: int
    connector_id: int


def make_people(settings: Settings, *, passwords: bool = False) -> dict[str, Person]:
    """Teams orders and billing; an admin, a supervisor, an agent in each team, with tokens
    (and with PASSWORD when `passwords`: argon2 takes a tenth of a second a hash)."""
    from omnidesk.config_file import DeskConfig

    people = {}
    with unit_of_work(settings) as session:
        for team in TEAMS:
            if admin_directory.find_team(session, team) is None:
                admin_directory.save_team(session, DeskConfig(path=None), {"name": team})
        for key, role, teams in (
            ("admin", Role.ADMIN, ()),
            ("supervisor", Role.SUPERVISOR, ()),
            ("agent", Role.AGENT, ("orders",)),
            ("outsider", Role.AGENT, ("billing",)),
        ):
            agent = accounts.create_user(
                session, key, role, password=PASSWORD if passwords else None, teams=teams
            )
            secret, _ = accounts.create_token(session, agent, f"{key} tests")
            people[key] = Person(key, str(role), secret)
    return people


def connector_id(settings: Settings, name: str = "tp-sms") -> int:
    with unit_of_work(settings) as session:
        record = session.exec(select(ConnectorRecord).where(ConnectorRecord.name == name)).first()
        if record is None:
            record = ConnectorRecord(name=name, channel="twilio", source="file")
            session.add(record)
            session.flush()
        return record.id  # type: ignore[return-value]


def make_request(
    settings: Settings,
    *,
    team: str | None = "orders",
    text: str = "我的订单什么时候发货？",
    sender: str | None = None,
    customer_id: int | None = None,
    connector: str = "tp-sms",
    assignee: str | None = None,
    category: str = "order",
    status: RequestStatus = RequestStatus.OPEN,
    **fields: object,
) -> Seeded:
    """A request with one inbound SMS from `sender` (a new customer unless `customer_id`)."""
    cid = connector_id(settings, connector)
    sender = sender or (CUSTOMER if customer_id is None else f"+86139{next(_numbers):08d}")
    with unit_of_work(settings) as session:
        identity = session.exec(
            select(Identity).where(Identity.kind == "phone", Identity.address == sender)
        ).first()
        if identity is None:
            customer = session.get(Customer, customer_id) if customer_id else Customer()
            session.add(customer)
            session.flush()
            identity = Identity(customer_id=customer.id, kind="phone", address=sender)
            session.add(identity)
            session.flush()
        values = {"language": "zh", "last_message_at": utcnow()} | fields
        request = Request(
            customer_id=customer_id or identity.customer_id,
            channel="twilio",
            connector_id=cid,
            category=category,
            status=status,
            team=team,
            assignee=assignee,
            **values,
        )
        session.add(request)
        session.flush()
        message = Message(
            connector_id=cid,
            channel="twilio",
            direction=Direction.INBOUND,
            request_id=request.id,
            customer_id=request.customer_id,
            identity_id=identity.id,
            sender=sender,
            sender_kind="phone",
            recipient=TWILIO_NUMBER,
            text=text,
            stage=Stage.DONE,
            provider_message_id=f"SM{next(_numbers):032d}",
        )
        session.add(message)
        session.flush()
        return Seeded(request.id, request.customer_id, identity.id, message.id, cid)  # type: ignore[arg-type]


def make_quarantined(
    settings: Settings,
    connector: str = "tp-sms",
    content: bytes = b"Subject: ???\r\n\r\n\xff\xfe broken",
) -> int:
    cid = connector_id(settings, connector)
    with unit_of_work(settings) as session:
        raw = RawPayload(
            sha256="0" * 64, content_type="message/rfc822", size=len(content), content=content
        )
        session.add(raw)
        session.flush()
        held = QuarantinedPayload(connector_id=cid, raw_payload_id=raw.id, reason="no sender")
        session.add(held)
        session.flush()
        return held.id  # type: ignore[return-value]
