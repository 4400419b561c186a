"""A chat visitor's contact details and sign-in: more identities for the same customer.

Details a visitor types are not proof of who they are: an email or phone already owned by
another customer is not taken over, only noted (`possible_customer_match`) for an agent to
merge. A signed-in visitor (verified by the shop's HMAC) is proof, so their anonymous chat
identity joins the signed-in customer.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from omnidesk.inbound import Sender
from omnidesk.models import Customer, Direction, Identity, Message
from omnidesk.services import events, identity, merge

CHAT_KIND = "webchat"


def attach(
    session: Session,
    connector_id: int,
    address: str,
    name: str | None,
    email: str | None,
    phone: str | None,
) -> list[str]:
    """Give the visitor's customer these details; return the kinds another customer owns."""
    customer, _ident = identity.resolve(session, Sender(kind=CHAT_KIND, address=address))
    request_id = _current_request_id(session, connector_id, address)
    if name and not customer.display_name:
        customer.display_name = name
        session.add(customer)
    group = merge.customer_group(session, customer.id)  # type: ignore[arg-type]
    taken: list[str] = []
    for kind, value in (("email", email), ("phone", phone)):
        if not value:
            continue
        address_of = identity.normalise_address(kind, value)
        owner = identity.find(session, kind, address_of)
        if owner is None:
            session.add(
                Identity(customer_id=customer.id, kind=kind, address=address_of, display_name=name)  # type: ignore[arg-type]
            )
            events.record(
                session,
                "contact_added",
                request_id=request_id,
                customer_id=customer.id,
                kind=kind,
                address=address_of,
            )
        elif owner.customer_id not in group:
            taken.append(kind)
            events.record(
                session,
                "possible_customer_match",
                request_id=request_id,
                customer_id=customer.id,
                kind=kind,
                address=address_of,
                other_customer_id=owner.customer_id,
            )
    session.flush()
    return taken


def link(session: Session, anonymous: str, known: str) -> None:
    """Make the anonymous chat identity's customer the signed-in customer (merge if both exist)."""
    anon = identity.find(session, CHAT_KIND, anonymous)
    if anon is None:
        return
    signed_in = identity.find(session, CHAT_KIND, known)
    if signed_in is None:
        session.add(Identity(customer_id=anon.customer_id, kind=CHAT_KIND, address=known))
        session.flush()
        return
    source = merge.canonical_id(session, anon.customer_id)
    target = merge.canonical_id(session, signed_in.customer_id)
    if source != target and session.get(Customer, source) is not None:
        merge.merge_customers(session, source, target, actor="webchat_sign_in")


def _current_request_id(session: Session, connector_id: int, address: str) -> int | None:
    stmt = (
        select(Message.request_id)
        .where(Message.connector_id == connector_id, Message.direction == Direction.INBOUND)
        .where(Message.sender == address, col(Message.request_id).is_not(None))
        .order_by(col(Message.id).desc())
    )
    return session.exec(stmt).first()
