"""Users of the desk: argon2 passwords, sign-in with rate limits and lockout, sessions, tokens.

A user is an `Agent` with a `Credential`. Sign-in failures are counted per username and per
client address over a sliding window (LoginAttempt rows, so every API process shares them);
enough consecutive failures lock the account for a while, recorded as an event.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from omnidesk.models import Agent, AgentTeam, Availability, Role, Team, utcnow
from omnidesk.models.auth import ApiToken, Credential, LoginAttempt, WebSession
from omnidesk.services import events
from omnidesk.services.problems import Rejected

HASHER = PasswordHasher()  # argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)
USERNAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
SESSION_TTL = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
LOCKOUT = timedelta(minutes=15)
TOKEN_PREFIX = "odk_"  # noqa: S105 - a label, not a secret


class AccountError(Rejected):
    """A user cannot be created or changed; `field` and `code` say why (stable snake_case)."""

    def __init__(self, field: str, code: str, message: str, *, status: int = 422) -> None:
        super().__init__({field: code}, message, status=status)
        self.field = field
        self.code = code


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", "too_short", f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError("password", "too_long", f"at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    check_password(password)
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_dummy: list[str] = []


def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so a miss costs as long as a wrong password."""
    if not _dummy:
        _dummy.append(HASHER.hash(secrets.token_urlsafe(16)))
    return _dummy[0]


def find_agent(session: Session, username: str) -> Agent | None:
    return session.exec(select(Agent).where(Agent.username == username)).first()


def team_names(session: Session, agent_id: int) -> frozenset[str]:
    stmt = select(Team.name).join(AgentTeam, col(AgentTeam.team_id) == col(Team.id))
    return frozenset(session.exec(stmt.where(AgentTeam.agent_id == agent_id)))


def set_password(session: Session, agent: Agent, password: str) -> None:
    """Set (or reset) a password: unlocks the account and signs out its browser sessions."""
    password_hash = hash_password(password)
    credential = session.exec(select(Credential).where(Credential.agent_id == agent.id)).first()
    credential = credential or Credential(agent_id=agent.id, password_hash=password_hash)  # type: ignore[arg-type]
    credential.password_hash = password_hash
    credential.password_changed_at = utcnow()
    credential.failed_logins = 0
    credential.locked_until = None
    session.add(credential)
    end_sessions(session, agent.id)  # type: ignore[arg-type]
    # A reset lets the agent in at once: forget the username's recent failures.
    session.exec(
        delete(LoginAttempt).where(
            col(LoginAttempt.username) == agent.username, col(LoginAttempt.succeeded).is_(False)
        )
    )


def create_user(
    session: Session,
    username: str,
    role: Role,
    *,
    password: str | None = None,
    display_name: str | None = None,
    teams: tuple[str, ...] = (),
) -> Agent:
    """A new console agent (with a password if given) in existing teams."""
    if not re.match(USERNAME, username):
        raise AccountError("username", "invalid", "lowercase letters, digits, '.', '_', '-'")
    if find_agent(session, username) is not None:
        raise AccountError(
            "username", "already_exists", f"agent {username!r} already exists", status=409
        )
    if password is not None:
        check_password(password)
    agent = Agent(
        username=username,
        display_name=display_name,
        role=role,
        source="console",
        availability=Availability.OFFLINE,
    )
    session.add(agent)
    session.flush()
    set_teams(session, agent, teams)
    if password is not None:
        set_password(session, agent, password)
    return agent


def set_teams(session: Session, agent: Agent, teams: tuple[str, ...]) -> None:
    found = {t.name: t for t in session.exec(select(Team).where(col(Team.name).in_(teams)))}
    missing = [t for t in teams if t not in found]
    if missing:
        raise AccountError("teams", "unknown_team", f"no team {missing[0]!r}")
    session.exec(delete(AgentTeam).where(col(AgentTeam.agent_id) == agent.id))
    for name in dict.fromkeys(teams):
        session.add(AgentTeam(agent_id=agent.id, team_id=found[name].id))  # type: ignore[arg-type]


# -- signing in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """The agent signed in, or None; `retry_after` (seconds) when refused for too many failures."""

    agent: Agent | None
    retry_after: int | None = None


def login(
    session: Session, username: str, password: str, address: str, now: datetime | None = None
) -> LoginResult:
    """Check a password under the rate limits; every outcome is recorded in the session."""
    now = now or utcnow()
    wait = _throttled(session, username, address, now)
    agent = find_agent(session, username)
    credential = credential_of(session, agent)
    if credential is not None and credential.locked_until and credential.locked_until > now:
        wait = max(wait or 0, _seconds(credential.locked_until - now))
    if wait:
        return LoginResult(None, wait)
    ok = verify_password(credential.password_hash if credential else _dummy_hash(), password)
    ok = ok and agent is not None and agent.active
    session.add(LoginAttempt(at=now, username=username[:64], address=address[:64], succeeded=ok))
    if credential is None:
        return LoginResult(None)
    if not ok:
        _count_failure(session, credential, username, address, now)
        return LoginResult(None)
    credential.failed_logins = 0
    credential.locked_until = None
    if HASHER.check_needs_rehash(credential.password_hash):
        credential.password_hash = HASHER.hash(password)
    session.add(credential)
    return LoginResult(agent)


def credential_of(session: Session, agent: Agent | None) -> Credential | None:
    if agent is None:
        return None
    return session.exec(select(Credential).where(Credential.agent_id == agent.id)).first()


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def _throttled(session: Session, username: str, address: str, now: datetime) -> int | None:
    """Seconds until the next attempt is allowed, or None when it is allowed now."""
    since = now - FAILURE_WINDOW
    failed = select(LoginAttempt.at).where(
        col(LoginAttempt.succeeded).is_(False), LoginAttempt.at > since
    )
    waits = []
    for column, value, limit in (
        (LoginAttempt.username, username, MAX_FAILURES_PER_USERNAME),
        (LoginAttempt.address, address, MAX_FAILURES_PER_ADDRESS),
    ):
        times = sorted(session.exec(failed.where(column == value)))
        if len(times) >= limit:
            waits.append(_seconds(times[len(times) - limit] + FAILURE_WINDOW - now))
    return max(waits) if waits else None


def _count_failure(
    session: Session, credential: Credential, username: str, address: str, now: datetime
) -> None:
    credential.failed_logins += 1
    if credential.failed_logins >= MAX_FAILURES_PER_USERNAME:
        credential.locked_until = now + LOCKOUT
        credential.failed_logins = 0
        events.record(
            session,
            "account_locked",
            actor="system",
            agent=username,
            address=address,
            until=credential.locked_until.isoformat(),
        )
    session.add(credential)
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - 8 * FAILURE_WINDOW))


# -- browser sessions --------------------------------------------------------------------------


def open_session(session: Session, agent: Agent, now: datetime | None = None) -> tuple[str, str]:
    """Start a browser session; returns the cookie value and the session's CSRF token."""
    now = now or utcnow()
    session.exec(delete(WebSession).where(col(WebSession.expires_at) < now - SESSION_TTL))
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    row = WebSession(
        id=digest(cookie),
        agent_id=agent.id,  # type: ignore[arg-type]
        csrf_token=csrf,
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_TTL,
    )
    session.add(row)
    return cookie, csrf


def session_agent(
    session: Session, cookie: str, now: datetime | None = None
) -> tuple[WebSession, Agent] | None:
    """The live session behind a cookie and its active agent (touched at most once a minute)."""
    now = now or utcnow()
    row = session.get(WebSession, digest(cookie))
    if (
        row is None
        or row.revoked
        or row.expires_at <= now
        or row.last_seen_at + SESSION_IDLE <= now
    ):
        return None
    agent = session.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return row, agent


def close_session(session: Session, cookie: str) -> None:
    row = session.get(WebSession, digest(cookie))
    if row is not None:
        row.revoked = True
        session.add(row)


def end_sessions(session: Session, agent_id: int) -> None:
    for row in session.exec(select(WebSession).where(WebSession.agent_id == agent_id)):
        row.revoked = True
        session.add(row)


# -- API tokens --------------------------------------------------------------------------------


def create_token(session: Session, agent: Agent, name: str) -> tuple[str, ApiToken]:
    """A new bearer token; the secret is returned once and only its digest is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        agent_id=agent.id,  # type: ignore[arg-type]
        name=name,
        token_hash=digest(secret),
        prefix=secret[:10],
    )
    session.add(token)
    session.flush()
    return secret, token


def token_agent(
    session: Session, secret: str, now: datetime | None = None
) -> tuple[ApiToken, Agent] | None:
    """The live token and its active agent (last use recorded at most once a minute)."""
    now = now or utcnow()
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    agent = session.get(Agent, token.agent_id)
    if agent is None or not agent.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
        session.add(token)
    return token, agent


def tokens_of(session: Session, agent_id: int) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.agent_id == agent_id).order_by(col(ApiToken.id))
    return list(session.exec(stmt))


def revoke_token(session: Session, token: ApiToken) -> bool:
    """Revoke a token; False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.add(token)
    return True


def revoke_tokens(session: Session, agent_id: int) -> None:
    for token in tokens_of(session, agent_id):
        revoke_token(session, token)
