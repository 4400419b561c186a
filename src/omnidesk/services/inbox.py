"""The agents' inbox: who may see which request, task lists, and a customer's whole history.

An agent sees the requests of their teams and those assigned to them; supervisors and admins
see every request. A request's page shows the customer across every channel and identity:
all messages of all their requests (merged customers included), and the history of each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, true
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from omnidesk.models import (
    OPEN_STATUSES,
    ConnectorRecord,
    Customer,
    Direction,
    Event,
    Identity,
    Message,
    Request,
)
from omnidesk.services.merge import customer_group, merged_into

MAX_PREVIEW = 160


@dataclass(frozen=True)
class Viewer:
    """Who is looking: their username, whether they see everything, and their teams."""

    username: str
    sees_all: bool
    teams: frozenset[str]

    def can_see(self, request: Request) -> bool:
        return self.sees_all or request.team in self.teams or request.assignee == self.username

    def condition(self) -> ColumnElement[bool]:
        if self.sees_all:
            return true()
        return or_(col(Request.team).in_(self.teams), col(Request.assignee) == self.username)


@dataclass(frozen=True)
class RequestFilter:
    """The task list's filters; `assignee="me"` is the viewer's own tasks."""

    assignee: str | None = None
    team: str | None = None
    unassigned: bool = False
    channel: str | None = None
    category: str | None = None
    status: tuple[str, ...] = ()
    language: str | None = None
    priority: str | None = None
    sla_due_before: datetime | None = None
    q: str | None = None
    customer_id: int | None = None
    sort: str = "newest"


def _due() -> ColumnElement[Any]:
    """The next SLA deadline: first response while unanswered, else resolution."""
    unanswered = case((col(Request.first_responded_at).is_(None), col(Request.first_response_due)))
    return func.coalesce(unanswered, col(Request.resolution_due))


SORTS: dict[str, Callable[[], list[Any]]] = {
    "newest": lambda: [col(Request.id).desc()],
    "oldest": lambda: [col(Request.id)],
    "updated": lambda: [col(Request.updated_at).desc(), col(Request.id).desc()],
    "due": lambda: [_due().is_(None), _due(), col(Request.id)],
}


def _filtered(viewer: Viewer, f: RequestFilter) -> SelectOfScalar[Request]:
    # A live chat the bot still answers is no task yet (services.chatbot hands it off).
    stmt = select(Request).where(viewer.condition(), col(Request.bot_active).is_(False))
    assignee = viewer.username if f.assignee == "me" else f.assignee
    for column, value in (
        (Request.assignee, assignee),
        (Request.team, f.team),
        (Request.channel, f.channel),
        (Request.category, f.category),
        (Request.language, f.language),
        (Request.priority, f.priority),
        (Request.customer_id, f.customer_id),
    ):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    if f.unassigned:
        stmt = stmt.where(col(Request.assignee).is_(None))
    if f.status:
        stmt = stmt.where(col(Request.status).in_(f.status))
    if f.sla_due_before is not None:
        stmt = stmt.where(col(Request.status).in_(OPEN_STATUSES), _due_before(f.sla_due_before))
    if f.q:
        stmt = stmt.where(_matches(f.q.strip()))
    return stmt


def _due_before(moment: datetime) -> ColumnElement[bool]:
    response_due = and_(
        col(Request.first_responded_at).is_(None), col(Request.first_response_due) < moment
    )
    return or_(response_due, col(Request.resolution_due) < moment)


def _matches(text: str) -> ColumnElement[bool]:
    in_messages = exists().where(
        col(Message.request_id) == col(Request.id),
        col(Message.text).icontains(text, autoescape=True),
    )
    by_subject = col(Request.subject).icontains(text, autoescape=True)
    return or_(by_subject, in_messages, col(Request.complaint_ref) == text)


def list_requests(
    session: Session, viewer: Viewer, f: RequestFilter, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the viewer's task list and how many requests match in all."""
    stmt = _filtered(viewer, f)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    page = list(session.exec(stmt.order_by(*SORTS[f.sort]()).offset(offset).limit(limit)))
    return summaries(session, page), int(total)


def summaries(session: Session, requests: list[Request]) -> list[dict[str, Any]]:
    """List rows: the request, its connector, customer name and last customer message."""
    ids = [r.id for r in requests]
    names = dict(session.exec(select(ConnectorRecord.id, ConnectorRecord.name)).all())
    customers = {
        c.id: c
        for c in session.exec(
            select(Customer).where(col(Customer.id).in_({r.customer_id for r in requests}))
        )
    }
    last = select(func.max(Message.id)).where(
        col(Message.request_id).in_(ids), Message.direction == Direction.INBOUND
    )
    previews = {
        m.request_id: m.text[:MAX_PREVIEW]
        for m in session.exec(
            select(Message).where(col(Message.id).in_(last.group_by(col(Message.request_id))))
        )
    }
    return [
        request.model_dump(mode="json")
        | {
            "connector": names.get(request.connector_id),
            "customer_name": getattr(customers.get(request.customer_id), "display_name", None),
            "preview": previews.get(request.id),
        }
        for request in requests
    ]


def history(
    session: Session, request: Request, reachable: Callable[[int], str | None]
) -> dict[str, Any]:
    """The request's page: customer, identities, every request, message and event of theirs.

    `reachable(connector_id)` names the live connector of that id (None: it cannot send).
    """
    group = customer_group(session, request.customer_id)
    customer = session.get(Customer, group[0])
    identities = list(
        session.exec(
            select(Identity).where(col(Identity.customer_id).in_(group)).order_by(col(Identity.id))
        )
    )
    requests = list(
        session.exec(
            select(Request).where(col(Request.customer_id).in_(group)).order_by(col(Request.id))
        )
    )
    request_ids = [r.id for r in requests]
    messages = session.exec(
        select(Message)
        .where(or_(col(Message.request_id).in_(request_ids), col(Message.customer_id).in_(group)))
        .order_by(col(Message.created_at), col(Message.id))
    )
    history_events = session.exec(
        select(Event).where(col(Event.request_id).in_(request_ids)).order_by(col(Event.id))
    )
    return {
        "request": summaries(session, [request])[0],
        "merged_into": merged_into(session, request.id),  # type: ignore[arg-type]
        "customer": customer.model_dump(mode="json") if customer else None,
        "identities": [i.model_dump(mode="json") for i in identities],
        "requests": summaries(session, requests),
        "messages": [_message(m) for m in messages],
        "events": [e.model_dump(mode="json") for e in history_events],
        "reply_options": reply_options(session, request, identities, reachable),
    }


def _message(message: Message) -> dict[str, Any]:
    return message.model_dump(
        mode="json", exclude={"raw_payload_id", "thread", "stage_changed_at", "recoveries"}
    )


def latest_inbound(
    session: Session, *, request_id: int | None = None, identity_id: int | None = None
) -> Message | None:
    """The last customer message of a request, or from an identity."""
    stmt = select(Message).where(Message.direction == Direction.INBOUND)
    if request_id is not None:
        stmt = stmt.where(Message.request_id == request_id)
    if identity_id is not None:
        stmt = stmt.where(Message.identity_id == identity_id)
    return session.exec(stmt.order_by(col(Message.id).desc())).first()


def reply_options(
    session: Session,
    request: Request,
    identities: list[Identity],
    reachable: Callable[[int], str | None],
) -> list[dict[str, Any]]:
    """The identities a reply can go to, through the connector each last wrote on."""
    default = latest_inbound(session, request_id=request.id)
    options = []
    for identity in identities:
        last = latest_inbound(session, identity_id=identity.id)
        connector = reachable(last.connector_id) if last is not None else None
        if last is None or connector is None or identity.opted_out:
            continue
        options.append(
            {
                "identity_id": identity.id,
                "kind": identity.kind,
                "address": identity.address,
                "channel": last.channel,
                "connector": connector,
                "default": default is not None and default.identity_id == identity.id,
            }
        )
    return options


def customer_visible(session: Session, viewer: Viewer, customer_id: int) -> bool:
    """Whether the viewer may see a customer: some request of theirs is the viewer's."""
    if viewer.sees_all:
        return True
    group = customer_group(session, customer_id)
    stmt = select(Request.id).where(col(Request.customer_id).in_(group), viewer.condition())
    return session.exec(stmt).first() is not None


def customer_page(session: Session, customer_id: int) -> dict[str, Any] | None:
    """A customer with every identity and request of theirs (merged customers included)."""
    group = customer_group(session, customer_id)
    customer = session.get(Customer, group[0])
    if customer is None:
        return None
    identities = session.exec(select(Identity).where(col(Identity.customer_id).in_(group)))
    requests = session.exec(
        select(Request).where(col(Request.customer_id).in_(group)).order_by(col(Request.id))
    )
    return {
        "customer": customer.model_dump(mode="json"),
        "identities": [i.model_dump(mode="json") for i in identities],
        "requests": summaries(session, list(requests)),
    }
