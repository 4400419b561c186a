"""Merging: two requests about the same thing, or two customers who are one person.

A merged request keeps its row, closed, with a `merged_into` event; its messages and history
move to the request it was merged into. A merged customer points at the other one
(`merged_into_id`, which identity resolution follows) and hands over identities and requests.
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from omnidesk.models import Customer, Event, Identity, Message, Request, RequestStatus, utcnow
from omnidesk.services import events
from omnidesk.services.problems import Rejected


def canonical_id(session: Session, customer_id: int) -> int:
    """The customer a (possibly merged) customer now is."""
    seen = {customer_id}
    customer = session.get(Customer, customer_id)
    while customer is not None and customer.merged_into_id is not None:
        if customer.merged_into_id in seen:
            break
        seen.add(customer.merged_into_id)
        customer = session.get(Customer, customer.merged_into_id)
    return customer.id if customer is not None and customer.id is not None else customer_id


def customer_group(session: Session, customer_id: int) -> list[int]:
    """The canonical customer and every customer merged into it, directly or not."""
    root = canonical_id(session, customer_id)
    group, frontier = [root], [root]
    while frontier:
        stmt = select(Customer.id).where(col(Customer.merged_into_id).in_(frontier))
        frontier = [i for i in session.exec(stmt) if i is not None and i not in group]
        group += frontier
    return group


def merged_into(session: Session, request_id: int) -> int | None:
    """The request this one was merged into, if it was."""
    stmt = select(Event).where(Event.request_id == request_id, Event.kind == "merged_into")
    event = session.exec(stmt.order_by(col(Event.id).desc())).first()
    return int(event.data["into"]) if event is not None else None


def merge_requests(session: Session, source: Request, target: Request, actor: str) -> Request:
    """Move `source`'s messages and history into `target` and close `source`."""
    if source.id == target.id:
        raise Rejected.one("into", "same_request", "a request cannot be merged into itself")
    if merged_into(session, source.id) is not None:  # type: ignore[arg-type]
        raise Rejected.one("base", "already_merged", f"#{source.id} was merged", status=409)
    if canonical_id(session, source.customer_id) != canonical_id(session, target.customer_id):
        raise Rejected.one("into", "different_customer", "merge the customers first", status=409)
    for table in (Message, Event):
        session.exec(
            update(table).where(col(table.request_id) == source.id).values(request_id=target.id)
        )
    now = utcnow()
    last = session.exec(select(func.max(Message.created_at)).where(Message.request_id == target.id))
    target.last_message_at = last.first() or target.last_message_at
    target.updated_at = now
    if source.status.is_open and not target.status.is_open:
        events.record(
            session,
            "reopened",
            request_id=target.id,
            actor=actor,
            previous=str(target.status),
            reason=f"#{source.id} was merged into it",
        )
        target.status, target.resolved_at = RequestStatus.OPEN, None
    source.status, source.updated_at = RequestStatus.CLOSED, now
    session.add_all([source, target])
    events.record(session, "merged", request_id=target.id, actor=actor, source=source.id)
    events.record(session, "merged_into", request_id=source.id, actor=actor, into=target.id)
    return target


def merge_customers(session: Session, source_id: int, target_id: int, actor: str) -> Customer:
    """Make `source` part of `target`: identities, requests and messages move over."""
    source, target = session.get(Customer, source_id), session.get(Customer, target_id)
    if source is None or target is None:
        raise LookupError("no such customer")
    if source.id == target.id:
        raise Rejected.one("into", "same_customer", "a customer cannot be merged into itself")
    if source.merged_into_id is not None:
        raise Rejected.one("base", "already_merged", f"customer {source.id} was merged", status=409)
    if canonical_id(session, target_id) == source_id:
        raise Rejected.one("into", "would_loop", f"customer {target_id} was merged into this one")
    for table in (Identity, Request, Message):
        session.exec(
            update(table).where(col(table.customer_id) == source_id).values(customer_id=target_id)
        )
    session.exec(
        update(Customer)
        .where(col(Customer.merged_into_id) == source_id)
        .values(merged_into_id=target_id)
    )
    source.merged_into_id = target_id
    target.tags = sorted(set(target.tags) | set(source.tags))
    target.display_name = target.display_name or source.display_name
    target.language = target.language or source.language
    session.add_all([source, target])
    for request_id in session.exec(select(Request.id).where(Request.customer_id == target_id)):
        events.record(
            session,
            "customer_merged",
            request_id=request_id,
            customer_id=target_id,
            actor=actor,
            source=source_id,
        )
    return target
