"""/api/v1/auth: sign in and out (session cookie), who am I, password, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from sqlmodel import Session

from omnidesk.api.deps import SESSION_COOKIE, CurrentAgent, SessionDep, desk_of, settings_of
from omnidesk.api.schemas import (
    PROBLEMS,
    AgentOut,
    DeskClock,
    LoginIn,
    Me,
    PasswordChangeIn,
    Problem,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from omnidesk.models import Agent, Role
from omnidesk.models.auth import ApiToken
from omnidesk.services import accounts, audit
from omnidesk.services.admin_directory import agent_row

router = APIRouter(prefix="/auth", tags=["auth"])


def agent_out(session: Session, agent: Agent) -> AgentOut:
    teams = accounts.team_names(session, agent.id)  # type: ignore[arg-type]
    return AgentOut.model_validate(agent_row(agent, teams))


def _refused(code: int, detail: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"detail": detail, "errors": {}}, status_code=code, headers=headers)


@router.post(
    "/login",
    responses={401: {"model": Problem}, 429: {"model": Problem, "description": "Retry-After"}},
)
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> Me:
    """Sign in: sets the HttpOnly session cookie and returns the CSRF token for unsafe calls.

    Failures count per username and per address: 5 per 15 minutes for a username lock it
    (429 with Retry-After), as do 20 from one address.
    """
    address = request.client.host if request.client else "unknown"
    result = accounts.login(session, body.username, body.password, address)
    if result.retry_after:
        return _refused(429, "too_many_attempts", result.retry_after)  # type: ignore[return-value]
    if result.agent is None:
        return _refused(401, "invalid_credentials")  # type: ignore[return-value]
    cookie, csrf = accounts.open_session(session, result.agent)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(accounts.SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings_of(request).public_url.startswith("https://"),
    )
    return Me(
        agent=agent_out(session, result.agent),  # type: ignore[arg-type]
        auth="session",
        csrf_token=csrf,
        desk=_desk_clock(request),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(me: CurrentAgent, response: Response, session: SessionDep) -> None:
    """End this browser session (a bearer token stays valid: revoke it instead)."""
    if me.session_cookie:
        accounts.close_session(session, me.session_cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def who_am_i(me: CurrentAgent, session: SessionDep, request: Request) -> Me:
    """The signed-in agent, how they signed in, (for a session) its CSRF token, and the desk's
    clock: its zone and today's date there."""
    agent = session.get(Agent, me.agent_id)
    return Me(
        agent=agent_out(session, agent),  # type: ignore[arg-type]
        auth=me.via,
        csrf_token=me.csrf_token,
        desk=_desk_clock(request),
    )


def _desk_clock(request: Request) -> DeskClock:
    """The desk's zone and today's date there (its default business hours' calendar)."""
    hours = desk_of(request).config.hours["default"]
    return DeskClock.model_validate(hours.clock(datetime.now(UTC)))


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
def change_password(body: PasswordChangeIn, me: CurrentAgent, session: SessionDep) -> None:
    """Change one's own password (signs out every browser session of the agent)."""
    agent = session.get(Agent, me.agent_id)
    credential = accounts.credential_of(session, agent)
    if credential is None or not accounts.verify_password(
        credential.password_hash, body.current_password
    ):
        raise HTTPException(403, "wrong_current_password")
    accounts.set_password(session, agent, body.new_password)  # type: ignore[arg-type]
    audit.record(session, me.username, "password_changed", "agent", me.username)


@router.get("/tokens")
def list_tokens(me: CurrentAgent, session: SessionDep) -> list[TokenOut]:
    """The agent's own API tokens (never their secrets)."""
    return [TokenOut.model_validate(t) for t in accounts.tokens_of(session, me.agent_id)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, me: CurrentAgent, session: SessionDep) -> TokenCreated:
    """A new API token for the signed-in agent; the secret is in this answer only."""
    agent = session.get(Agent, me.agent_id)
    secret, token = accounts.create_token(session, agent, body.name)  # type: ignore[arg-type]
    audit.record(session, me.username, "token_created", "api_token", token.id, name=body.name)
    return TokenCreated.model_validate(token.model_dump() | {"token": secret})


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, me: CurrentAgent, session: SessionDep) -> None:
    """Revoke one of one's tokens (admins: anyone's)."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.agent_id != me.agent_id and me.role != Role.ADMIN):
        raise HTTPException(404, f"no token {token_id}")
    if accounts.revoke_token(session, token):
        audit.record(
            session,
            me.username,
            "token_revoked",
            "api_token",
            token_id,
            name=token.name,
            owner_id=token.agent_id,
        )
