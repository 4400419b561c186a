"""/api/v1/requests: the task inbox and everything an agent does on a request."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from sqlmodel import Session

from omnidesk.api.deps import CurrentAgent, SessionDep, WorkDep, desk_of, visible_request
from omnidesk.api.schemas import (
    PROBLEMS,
    AssigneeIn,
    CategoryIn,
    EventOut,
    MergeIn,
    MessageOut,
    NoteIn,
    PriorityIn,
    ReplyIn,
    RequestDetail,
    RequestOut,
    RequestPage,
    StatusIn,
)
from omnidesk.connector import ChatConnector
from omnidesk.errors import TransientError
from omnidesk.models import Priority, RequestStatus
from omnidesk.models import Request as DeskRequest
from omnidesk.services import agent_actions, console_connectors, inbox, merge, priority
from omnidesk.services.corrections import recategorise
from omnidesk.services.problems import Rejected
from omnidesk.triage.config import TriageConfig, load_config

router = APIRouter(prefix="/requests", tags=["requests"], responses=PROBLEMS)
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


def request_filter(
    assignee: Annotated[str | None, Query(description='"me" or a username')] = None,
    team: str | None = None,
    unassigned: bool = False,
    channel: str | None = None,
    category: str | None = None,
    status: Annotated[list[RequestStatus] | None, Query()] = None,
    language: str | None = None,
    priority: Priority | None = None,
    sla_due_before: Annotated[datetime | None, Query(description="Open, due before this")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in subject/messages")] = None,
    customer_id: int | None = None,
    sort: Annotated[str, Query(pattern="^(newest|oldest|updated|due)$")] = "newest",
) -> inbox.RequestFilter:
    """The task list's filters as query parameters."""
    return inbox.RequestFilter(
        assignee=assignee,
        team=team,
        unassigned=unassigned,
        channel=channel,
        category=category,
        status=tuple(str(s) for s in status or ()),
        language=language,
        priority=str(priority) if priority else None,
        sla_due_before=sla_due_before,
        q=q,
        customer_id=customer_id,
        sort=sort,
    )


Filter = Annotated[inbox.RequestFilter, Depends(request_filter)]


def triage_config(request: Request) -> TriageConfig:
    if getattr(request.app.state, "triage_config", None) is None:
        request.app.state.triage_config = load_config()
    config: TriageConfig = request.app.state.triage_config
    return config


def _out(session: Session, request: DeskRequest) -> RequestOut:
    return RequestOut.model_validate(inbox.summaries(session, [request])[0])


@router.get("")
def list_requests(
    me: CurrentAgent, session: SessionDep, f: Filter, limit: Limit = 50, offset: Offset = 0
) -> RequestPage:
    """Tasks: mine (`assignee=me`), a team's queue (`team=…&unassigned=true`), filtered.

    Agents see their teams' requests and those assigned to them; asking for another team's
    queue is 403. Supervisors and admins see every request.
    """
    if f.team is not None and not me.sees_all and f.team not in me.teams:
        raise HTTPException(403, "not_your_team")
    items, total = inbox.list_requests(session, me.viewer, f, limit, offset)
    return RequestPage(items=items, total=total, limit=limit, offset=offset)  # type: ignore[arg-type]


@router.get("/{request_id}")
def show_request(
    request_id: int, me: CurrentAgent, session: SessionDep, request: Request
) -> RequestDetail:
    """The request with its customer, every identity, and the customer's whole history."""
    found = visible_request(session, request_id, me)
    desk = desk_of(request)
    page = inbox.history(session, found, lambda cid: console_connectors.live_name(desk, cid))
    return RequestDetail.model_validate(page)


@router.post("/{request_id}/reply", status_code=status.HTTP_201_CREATED)
def reply(
    request_id: int, body: ReplyIn, me: CurrentAgent, work: WorkDep, request: Request
) -> MessageOut:
    """Reply through the channel the customer wrote on, or to another identity of theirs."""
    found = visible_request(work.session, request_id, me)
    desk = desk_of(request)
    message = agent_actions.reply(
        work.session,
        found,
        body.text,
        me.username,
        lambda cid: console_connectors.live_name(desk, cid),
        body.channel_identity_id,
    )
    work.enqueue([agent_actions.send_task(message)])
    return MessageOut.model_validate(message)


@router.post("/{request_id}/typing", status_code=status.HTTP_204_NO_CONTENT)
def typing(request_id: int, me: CurrentAgent, session: SessionDep, request: Request) -> None:
    """The agent is typing a reply: shown live to a chat visitor (a no-op on other channels)."""
    found = visible_request(session, request_id, me)
    last = inbox.latest_inbound(session, request_id=found.id)
    connector = desk_of(request).connector_for_id(last.connector_id) if last else None
    if last is not None and last.sender and isinstance(connector, ChatConnector):
        with contextlib.suppress(TransientError):  # a typing hint is not worth an error
            connector.notify(last.sender, {"type": "typing", "from": "agent"})


@router.post("/{request_id}/notes", status_code=status.HTTP_201_CREATED)
def add_note(request_id: int, body: NoteIn, me: CurrentAgent, session: SessionDep) -> EventOut:
    """An internal note in the request's history (never sent to the customer)."""
    found = visible_request(session, request_id, me)
    return EventOut.model_validate(agent_actions.note(session, found, body.text, me.username))


@router.put("/{request_id}/category")
def change_category(
    request_id: int,
    body: CategoryIn,
    me: CurrentAgent,
    session: SessionDep,
    config: Annotated[TriageConfig, Depends(triage_config)],
    request: Request,
) -> RequestOut:
    """Correct the category; the correction is kept to retrain the classifier."""
    found = visible_request(session, request_id, me)
    model_dir = request.app.state.settings.triage_model_dir
    try:
        recategorise(session, request_id, body.category, me.username, config, model_dir)
    except ValueError as exc:
        raise Rejected.one("category", "unknown_category", str(exc)) from None
    return _out(session, found)


@router.put("/{request_id}/assignee")
def reassign(
    request_id: int, body: AssigneeIn, me: CurrentAgent, session: SessionDep
) -> RequestOut:
    """Hand the request to an agent, or back to the queue (null); optionally to another team."""
    found = visible_request(session, request_id, me)
    agent_actions.reassign(session, found, me.viewer, body.assignee, body.team)
    return _out(session, found)


@router.put("/{request_id}/priority")
def change_priority(
    request_id: int, body: PriorityIn, me: CurrentAgent, session: SessionDep, request: Request
) -> RequestOut:
    """Raise or lower the priority, saying why; the SLA due times are recomputed."""
    found = visible_request(session, request_id, me)
    config = desk_of(request).config
    priority.change(session, found, body.priority, me.username, body.reason, config)
    return _out(session, found)


@router.post("/{request_id}/status")
def change_status(
    request_id: int, body: StatusIn, me: CurrentAgent, work: WorkDep, request: Request
) -> RequestOut:
    """Pending, resolved or open (reopen); a complaint's customer is told on their channel."""
    found = visible_request(work.session, request_id, me)
    tasks = agent_actions.set_status(
        work.session,
        found,
        RequestStatus(body.status),
        me.username,
        desk_of(request).config,
        body.note,
    )
    work.enqueue(tasks)
    return _out(work.session, found)


@router.post("/{request_id}/merge")
def merge_requests(
    request_id: int, body: MergeIn, me: CurrentAgent, session: SessionDep
) -> RequestOut:
    """Merge this request into another of the same customer; returns the one kept."""
    source = visible_request(session, request_id, me)
    target = visible_request(session, body.into, me)
    return _out(session, merge.merge_requests(session, source, target, me.username))
