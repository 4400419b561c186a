"""/api/v1/agents: the desk's people, their availability, and (admins) their accounts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlmodel import Session

from omnidesk.api.deps import AdminAgent, CurrentAgent, SessionDep, StaffAgent
from omnidesk.api.schemas import (
    PROBLEMS,
    AgentCreate,
    AgentOut,
    AgentUpdate,
    AvailabilityIn,
    AvailabilityOut,
)
from omnidesk.models import Agent
from omnidesk.services import accounts, admin_directory, audit
from omnidesk.services.assign import set_availability
from omnidesk.services.queries import list_agents

router = APIRouter(prefix="/agents", tags=["agents"], responses=PROBLEMS)


def _agent(session: Session, username: str) -> Agent:
    agent = accounts.find_agent(session, username)
    if agent is None:
        raise HTTPException(404, f"no agent {username!r}")
    return agent


def _out(session: Session, agent: Agent) -> AgentOut:
    teams = accounts.team_names(session, agent.id)  # type: ignore[arg-type]
    return AgentOut.model_validate(admin_directory.agent_row(agent, teams))


@router.get("")
def agents(me: CurrentAgent, session: SessionDep) -> list[AgentOut]:
    """Every agent with teams, skills, capacity, availability and open requests."""
    return [AgentOut.model_validate(row) for row in list_agents(session)]


@router.put("/me/availability")
def my_availability(body: AvailabilityIn, me: CurrentAgent, session: SessionDep) -> AvailabilityOut:
    """Go online, away or offline (offline hands unanswered requests back to the team)."""
    handed = set_availability(session, me.username, body.availability, actor=me.username)
    return AvailabilityOut(username=me.username, availability=body.availability, handed_back=handed)


@router.put("/{username}/availability")
def availability(
    username: str, body: AvailabilityIn, me: StaffAgent, session: SessionDep
) -> AvailabilityOut:
    """Set another agent's availability (supervisors and admins)."""
    _agent(session, username)
    handed = set_availability(session, username, body.availability, actor=me.username)
    return AvailabilityOut(username=username, availability=body.availability, handed_back=handed)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_agent(body: AgentCreate, me: AdminAgent, session: SessionDep) -> AgentOut:
    """A new agent with a role, teams, skills and capacity (and a password to sign in)."""
    agent = accounts.create_user(
        session,
        body.username,
        body.role,
        password=body.password,
        display_name=body.display_name,
        teams=tuple(body.teams),
    )
    skills = body.model_dump(include={"email", "categories", "languages", "channels", "capacity"})
    admin_directory.update_agent(session, agent, skills)
    audit.record(
        session,
        me.username,
        "agent_created",
        "agent",
        agent.username,
        **body.model_dump(exclude={"password"}),
        password_set=body.password is not None,
    )
    return _out(session, agent)


@router.patch("/{username}")
def update_agent(username: str, body: AgentUpdate, me: AdminAgent, session: SessionDep) -> AgentOut:
    """Change an agent's role, teams, skills, capacity or password, or (de)activate them."""
    agent = _agent(session, username)
    diff = admin_directory.update_agent(session, agent, body.model_dump(exclude_unset=True))
    audit.record(session, me.username, "agent_updated", "agent", username, changes=diff)
    return _out(session, agent)


@router.delete("/{username}", status_code=status.HTTP_204_NO_CONTENT)
def deactivate_agent(username: str, me: AdminAgent, session: SessionDep) -> None:
    """Deactivate an agent: they can no longer sign in; their history stays."""
    agent = _agent(session, username)
    admin_directory.update_agent(session, agent, {"active": False})
    audit.record(session, me.username, "agent_deactivated", "agent", username)
