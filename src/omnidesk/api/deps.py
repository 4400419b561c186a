"""What every /api/v1 route depends on: the signed-in agent, roles, CSRF, the transaction.

Authentication is a session cookie (the web UI) or `Authorization: Bearer <token>`
(integrations). A cookie-authenticated POST, PUT, PATCH or DELETE must repeat the session's CSRF
token in `X-CSRF-Token` (double submit); a bearer token needs none, since a browser never adds
it to a cross-site request. The route's transaction commits before the response is sent, and
the work it produced (replies to send) is enqueued after the commit.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from omnidesk.db import unit_of_work
from omnidesk.desk import Desk
from omnidesk.models import Agent, Role
from omnidesk.models import Request as DeskRequest
from omnidesk.services import accounts
from omnidesk.services.inbox import Viewer
from omnidesk.services.pipeline import Task
from omnidesk.settings import Settings

SESSION_COOKIE = "omnidesk_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(
    auto_error=False, description="An API token made with POST /api/v1/auth/tokens"
)
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The web UI's session (POST /api/v1/auth/login); unsafe methods also need the "
    f"{CSRF_HEADER} header",
)


@dataclass(frozen=True)
class Principal:
    """The signed-in agent as the routes see it (no ORM object crosses transactions)."""

    agent_id: int
    username: str
    role: Role
    teams: frozenset[str]
    via: Literal["session", "token"]
    csrf_token: str | None = None
    session_cookie: str | None = field(default=None, repr=False)

    @property
    def sees_all(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR)

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.username, self.sees_all, self.teams)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _principal(
    agent: Agent,
    session: Session,
    via: Literal["session", "token"],
    csrf: str | None = None,
    cookie: str | None = None,
) -> Principal:
    return Principal(
        agent_id=agent.id,  # type: ignore[arg-type]
        username=agent.username,
        role=Role(agent.role),
        teams=accounts.team_names(session, agent.id),  # type: ignore[arg-type]
        via=via,
        csrf_token=csrf,
        session_cookie=cookie,
    )


def authenticate(request: Request, token: str | None, cookie: str | None) -> Principal | None:
    """The agent behind a bearer token (preferred) or a session cookie, if either is live."""
    with unit_of_work(settings_of(request)) as session:
        if token is not None:
            found = accounts.token_agent(session, token)
            return _principal(found[1], session, "token") if found else None
        if cookie:
            live = accounts.session_agent(session, cookie)
            if live is not None:
                return _principal(live[1], session, "session", live[0].csrf_token, cookie)
    return None


def current_agent(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Principal:
    """The signed-in agent: 401 without valid credentials, 403 on a missing CSRF token."""
    if "authorization" in request.headers and credentials is None:
        raise _unauthenticated()
    principal = authenticate(request, credentials.credentials if credentials else None, cookie)
    if principal is None:
        raise _unauthenticated()
    if principal.via == "session" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), (principal.csrf_token or "").encode()):
            raise HTTPException(403, "csrf_token_missing_or_wrong")
    return principal


def _unauthenticated() -> HTTPException:
    return HTTPException(401, "not_authenticated", headers={"WWW-Authenticate": "Bearer"})


CurrentAgent = Annotated[Principal, Depends(current_agent)]


def require_role(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only these roles through (403 for the others)."""

    def check(me: CurrentAgent) -> Principal:
        if me.role not in roles:
            raise HTTPException(403, "role_not_allowed")
        return me

    return check


AdminAgent = Annotated[Principal, Depends(require_role(Role.ADMIN))]
StaffAgent = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.SUPERVISOR))]


class Work:
    """The route's transaction, and the tasks to enqueue once it has committed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tasks: list[Task] = []

    def enqueue(self, tasks: list[Task]) -> None:
        self.tasks.extend(tasks)


def _work(request: Request) -> Iterator[Work]:
    with unit_of_work(settings_of(request)) as session:
        work = Work(session)
        yield work
    for task in work.tasks:
        request.app.state.intake.enqueue(task.stage, task.message_id)


def _session(work: Annotated[Work, Depends(_work, scope="function")]) -> Session:
    return work.session


WorkDep = Annotated[Work, Depends(_work, scope="function")]
SessionDep = Annotated[Session, Depends(_session, scope="function")]


def visible_request(session: Session, request_id: int, me: Principal) -> DeskRequest:
    """The request if the agent may see it: 404 when there is none, 403 when not theirs."""
    found = session.get(DeskRequest, request_id)
    if found is None:
        raise HTTPException(404, f"no request #{request_id}")
    if not me.viewer.can_see(found):
        raise HTTPException(403, "not_your_teams_request")
    return found
