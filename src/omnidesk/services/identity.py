"""Find or create the customer behind a sender address."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from omnidesk.inbound import Sender
from omnidesk.models import Customer, Identity, utcnow


def normalise_address(kind: str, address: str) -> str:
    address = address.strip()
    if kind == "email":
        return address.lower()
    if kind == "phone":
        return "".join(ch for ch in address if ch.isdigit() or ch == "+")
    return address


def resolve(session: Session, sender: Sender) -> tuple[Customer, Identity]:
    """The customer and identity for this sender; both are created on first contact."""
    address = normalise_address(sender.kind, sender.address)
    identity = find(session, sender.kind, address)
    if identity is None:
        identity = _create(session, sender, address)
    identity.last_seen_at = utcnow()
    if sender.display_name and not identity.display_name:
        identity.display_name = sender.display_name
    session.add(identity)
    customer = session.get(Customer, identity.customer_id)
    assert customer is not None
    while customer.merged_into_id is not None:
        merged = session.get(Customer, customer.merged_into_id)
        assert merged is not None
        customer = merged
    return customer, identity


def find(session: Session, kind: str, address: str) -> Identity | None:
    stmt = select(Identity).where(Identity.kind == kind, Identity.address == address)
    return session.exec(stmt).first()


def _create(session: Session, sender: Sender, address: str) -> Identity:
    """Create customer and identity; on a concurrent insert, use the winner's row."""
    try:
        with session.begin_nested():
            customer = Customer(display_name=sender.display_name)
            session.add(customer)
            session.flush()
            identity = Identity(
                customer_id=customer.id,  # type: ignore[arg-type]
                kind=sender.kind,
                address=address,
                display_name=sender.display_name,
            )
            session.add(identity)
            session.flush()
            return identity
    except IntegrityError:
        existing = find(session, sender.kind, address)
        assert existing is not None
        return existing
