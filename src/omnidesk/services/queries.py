"""Read models of requests for the CLI and the API: a list row and the full record."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from omnidesk.models import (
    Agent,
    AgentTeam,
    ConnectorRecord,
    Customer,
    Event,
    Identity,
    Message,
    Request,
    Team,
)
from omnidesk.services.assign import open_loads
from omnidesk.services.feedback import summary as feedback_summary


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
    return {"id": request.id, **request.model_dump(mode="json")}


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
        "feedback": feedback_summary(session, request_id),
    }


def _message(message: Message) -> dict[str, Any]:
    return message.model_dump(mode="json")


def list_agents(session: Session) -> list[dict[str, Any]]:
    teams: dict[int, list[str]] = {}
    for link, team in session.exec(
        select(AgentTeam, Team).where(col(AgentTeam.team_id) == col(Team.id))
    ):
        teams.setdefault(link.agent_id, []).append(team.name)
    agents = list(session.exec(select(Agent).order_by(col(Agent.username))))
    loads = open_loads(session, [a.username for a in agents])
    return [
        a.model_dump(mode="json")
        | {"teams": sorted(teams.get(a.id or 0, [])), "open_requests": loads.get(a.username, 0)}
        for a in agents
    ]
