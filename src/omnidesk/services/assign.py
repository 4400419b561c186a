"""Assignment inside a team: the least-loaded available agent with the skills, round-robin
between equals; a returning customer goes back to their last agent; nobody → the team queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from omnidesk.models import (
    OPEN_STATUSES,
    Agent,
    AgentTeam,
    Availability,
    Request,
    Team,
    utcnow,
)
from omnidesk.services import events


@dataclass(frozen=True)
class Choice:
    agent: str | None
    reason: str


def skilled(agent: Agent, request: Request) -> bool:
    """Empty skill lists mean "any"."""
    return (
        (not agent.categories or request.category in agent.categories)
        and (not agent.languages or request.language in agent.languages)
        and (not agent.channels or request.channel in agent.channels)
    )


def choose(candidates: Sequence[Agent], loads: dict[str, int], previous: str | None) -> Choice:
    """Pure: pick among available, skilled candidates (already filtered) by load and recency."""
    free = [a for a in candidates if loads.get(a.username, 0) < a.capacity]
    if not free:
        if candidates:
            return Choice(None, "every skilled agent is at capacity: team queue")
        return Choice(None, "no skilled agent is online: team queue")
    for agent in free:
        if agent.username == previous:
            return Choice(agent.username, "returning customer: back to their last agent")
    least = min(loads.get(a.username, 0) for a in free)
    equals = [a for a in free if loads.get(a.username, 0) == least]
    equals.sort(key=lambda a: (a.last_assigned_at is not None, a.last_assigned_at, a.username))
    picked = equals[0]
    reason = f"least loaded ({least} open)" + (
        ", round-robin among equals" if len(equals) > 1 else ""
    )
    return Choice(picked.username, reason)


def team_agents(session: Session, team: str) -> list[Agent]:
    stmt = (
        select(Agent)
        .join(AgentTeam, col(AgentTeam.agent_id) == col(Agent.id))
        .join(Team, col(Team.id) == col(AgentTeam.team_id))
        .where(Team.name == team, col(Agent.active).is_(True))
    )
    return list(session.exec(stmt))


def open_loads(session: Session, usernames: Sequence[str]) -> dict[str, int]:
    stmt = (
        select(Request.assignee, func.count())
        .where(col(Request.assignee).in_(usernames), col(Request.status).in_(OPEN_STATUSES))
        .group_by(Request.assignee)
    )
    return {name: count for name, count in session.exec(stmt) if name}


def previous_agent(session: Session, request: Request) -> str | None:
    stmt = (
        select(Request.assignee)
        .where(Request.customer_id == request.customer_id, Request.id != request.id)
        .where(col(Request.assignee).is_not(None))
        .order_by(col(Request.id).desc())
    )
    return session.exec(stmt).first()


def assign(
    session: Session, request: Request, *, exclude: str | None = None, actor: str = "system"
) -> Choice:
    """Assign `request` within its team (or leave it in the queue), with an event saying why."""
    agents = [
        a
        for a in team_agents(session, request.team or "")
        if a.availability == Availability.ONLINE and skilled(a, request) and a.username != exclude
    ]
    loads = open_loads(session, [a.username for a in agents])
    choice = choose(agents, loads, previous_agent(session, request))
    request.assignee = choice.agent
    request.updated_at = utcnow()
    session.add(request)
    if choice.agent:
        agent = next(a for a in agents if a.username == choice.agent)
        agent.last_assigned_at = utcnow()
        session.add(agent)
    events.record(
        session,
        "assigned" if choice.agent else "queued",
        request_id=request.id,
        actor=actor,
        team=request.team,
        assignee=choice.agent,
        reason=choice.reason,
        candidates={a.username: loads.get(a.username, 0) for a in agents},
    )
    return choice


def set_availability(
    session: Session, username: str, availability: Availability, actor: str
) -> list[int]:
    """Change an agent's availability; going offline hands unanswered requests back to the team.

    Returns the ids of requests that were handed back (and re-assigned when someone is free).
    """
    agent = session.exec(select(Agent).where(Agent.username == username)).first()
    if agent is None:
        raise LookupError(f"no agent {username!r}")
    agent.availability = availability
    session.add(agent)
    events.record(
        session, "agent_availability", actor=actor, agent=username, availability=str(availability)
    )
    if availability != Availability.OFFLINE:
        return []
    stmt = select(Request).where(
        Request.assignee == username,
        col(Request.status).in_(OPEN_STATUSES),
        col(Request.first_responded_at).is_(None),
    )
    handed = []
    for request in session.exec(stmt):
        events.record(
            session,
            "unassigned",
            request_id=request.id,
            actor=actor,
            agent=username,
            reason="agent went offline before answering",
        )
        assign(session, request, exclude=username, actor=actor)
        handed.append(request.id)  # type: ignore[arg-type]
    return handed
