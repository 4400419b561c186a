"""What an agent does on a request: reply on a channel of the customer's, note, reassign."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import Agent, Event, Identity, Message, Request, RequestStatus, Team, utcnow
from omnidesk.services import events, status
from omnidesk.services.assign import team_agents
from omnidesk.services.inbox import Viewer, latest_inbound
from omnidesk.services.merge import customer_group
from omnidesk.services.pipeline import SEND, Task
from omnidesk.services.problems import Rejected
from omnidesk.services.respond import queue_reply

MAX_TEXT = 20_000


def _check_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise Rejected.one("text", "empty", "write something")
    if len(cleaned) > MAX_TEXT:
        raise Rejected.one("text", "too_long", f"at most {MAX_TEXT} characters")
    return cleaned


def reply(
    session: Session,
    request: Request,
    text: str,
    author: str,
    reachable: Callable[[int], str | None],
    identity_id: int | None = None,
) -> Message:
    """Queue an agent's reply: to the request's last customer message on its connector, or to
    another identity of the customer through the connector that identity last wrote on."""
    text = _check_text(text)
    field = "channel_identity_id" if identity_id is not None else "base"
    to = _reply_target(session, request, identity_id)
    if reachable(to.connector_id) is None:
        raise Rejected.one(field, "connector_unavailable", "that channel is not live", status=409)
    return queue_reply(session, request, to, text, kind="agent_reply", author=author)


def send_task(message: Message) -> Task:
    """The send to enqueue once the reply's row is committed."""
    return Task(SEND, message.id)  # type: ignore[arg-type]


def set_status(
    session: Session,
    request: Request,
    new: RequestStatus,
    actor: str,
    config: DeskConfig,
    note: str | None = None,
) -> list[Task]:
    """Pending, resolved or reopened (services.status); returns the notices to send."""
    return status.set_status(session, request.id, new, actor, config, note)  # type: ignore[arg-type]


def _reply_target(session: Session, request: Request, identity_id: int | None) -> Message:
    if identity_id is None:
        found = latest_inbound(session, request_id=request.id)
        if found is None:
            raise Rejected.one("base", "nothing_to_answer", "no customer message", status=409)
        return found
    identity = session.get(Identity, identity_id)
    field = "channel_identity_id"
    if identity is None or identity.customer_id not in customer_group(session, request.customer_id):
        raise Rejected.one(field, "not_this_customer", "not an identity of this customer")
    if identity.opted_out:
        raise Rejected.one(field, "opted_out", "the customer opted out there", status=409)
    found = latest_inbound(session, identity_id=identity_id)
    if found is None:
        raise Rejected.one(field, "unreachable", "they never wrote from there", status=409)
    return found


def note(session: Session, request: Request, text: str, author: str) -> Event:
    """An internal note: a line of the request's history the customer never sees."""
    event = events.record(
        session, "note", request_id=request.id, actor=author, text=_check_text(text)
    )
    session.flush()
    return event


def reassign(
    session: Session,
    request: Request,
    viewer: Viewer,
    assignee: str | None,
    team: str | None = None,
) -> Request:
    """Move the request to another team's queue and/or agent (None: back to the queue).

    An agent may hand a request to anyone of its team (or take it); supervisors to anyone.
    """
    if team is not None and team != request.team:
        if session.exec(select(Team).where(Team.name == team)).first() is None:
            raise Rejected.one("team", "unknown_team", f"no team {team!r}")
        events.record(
            session,
            "transferred",
            request_id=request.id,
            actor=viewer.username,
            previous=request.team,
            team=team,
        )
        request.team = team
    if assignee is not None:
        _check_assignee(session, request, viewer, assignee)
    if assignee != request.assignee:
        events.record(
            session,
            "assigned" if assignee else "unassigned",
            request_id=request.id,
            actor=viewer.username,
            assignee=assignee,
            previous=request.assignee,
            team=request.team,
            reason=f"reassigned by {viewer.username}",
        )
        request.assignee = assignee
    request.updated_at = utcnow()
    session.add(request)
    return request


def _check_assignee(session: Session, request: Request, viewer: Viewer, assignee: str) -> None:
    agent = session.exec(select(Agent).where(Agent.username == assignee)).first()
    if agent is None or not agent.active:
        raise Rejected.one("assignee", "unknown_agent", f"no active agent {assignee!r}")
    if viewer.sees_all or assignee == viewer.username:
        return
    if assignee not in {a.username for a in team_agents(session, request.team or "")}:
        raise Rejected.one("assignee", "not_in_team", f"{assignee} is not in team {request.team}")
