"""Read models of requests for the CLI and the API: a list row and the full record."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from omnidesk.models import ConnectorRecord, Customer, Event, Identity, Message, Request


def list_requests(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    stmt = select(Request).order_by(col(Request.id).desc()).offset(offset).limit(limit)
    if status:
        stmt = stmt.where(Request.status == status)
    if channel:
        stmt = stmt.where(Request.channel == channel)
    return [request_row(r) for r in session.exec(stmt)]


def request_row(request: Request) -> dict[str, Any]:
    return request.model_dump(mode="json")


def show_request(session: Session, request_id: int) -> dict[str, Any] | None:
    request = session.get(Request, request_id)
    if request is None:
        return None
    customer = session.get(Customer, request.customer_id)
    identities = session.exec(select(Identity).where(Identity.customer_id == request.customer_id))
    connector = session.get(ConnectorRecord, request.connector_id)
    messages = session.exec(
        select(Message).where(Message.request_id == request_id).order_by(col(Message.id))
    )
    events = session.exec(
        select(Event).where(Event.request_id == request_id).order_by(col(Event.id))
    )
    return {
        **request_row(request),
        "connector": connector.name if connector else None,
        "customer": {
            **(customer.model_dump(mode="json") if customer else {}),
            "identities": [i.model_dump(mode="json") for i in identities],
        },
        "messages": [_message(m) for m in messages],
        "events": [e.model_dump(mode="json") for e in events],
    }


def _message(message: Message) -> dict[str, Any]:
    return message.model_dump(mode="json", exclude={"raw_payload_id"}) | {
        "raw_payload_id": message.raw_payload_id
    }
