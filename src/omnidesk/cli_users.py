"""`omnidesk users`: the desk's sign-in accounts (the first admin, passwords, API tokens)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from omnidesk.models import Role

if TYPE_CHECKING:
    from omnidesk.settings import Settings

users_app = typer.Typer(
    help="Sign-in accounts: create users, set passwords, make API tokens.", no_args_is_help=True
)
err = Console(stderr=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]
PasswordOpt = Annotated[
    str | None, typer.Option("--password", help="The password (visible in `ps`: prefer stdin).")
]


def _settings() -> Settings:
    from omnidesk.cli import _require_schema, _settings

    settings = _settings()
    _require_schema(settings)
    return settings


def _password(from_stdin: bool, given: str | None) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if given is not None:
        return given
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(1)


@users_app.command("create")
def create(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, supervisor or agent.")] = Role.AGENT,
    password_stdin: PasswordStdin = False,
    password: PasswordOpt = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    team: Annotated[list[str] | None, typer.Option(help="A team (repeat for several).")] = None,
) -> None:
    """Create a user who can sign in (e.g. the first admin: --role admin)."""
    from omnidesk.db import unit_of_work
    from omnidesk.services import accounts, audit
    from omnidesk.services.problems import Rejected

    settings = _settings()
    secret = _password(password_stdin, password)
    try:
        with unit_of_work(settings) as session:
            accounts.create_user(
                session, username, role, password=secret, display_name=name, teams=tuple(team or ())
            )
            audit.record(
                session,
                "cli",
                "agent_created",
                "agent",
                username,
                role=str(role),
                teams=list(team or ()),
                password_set=True,
            )
    except Rejected as exc:
        raise _fail(str(exc)) from exc
    err.print(f"created {role} {username}")


@users_app.command("list")
def list_users(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Users with their role, teams and whether they can sign in."""
    from sqlmodel import select

    from omnidesk.db import unit_of_work
    from omnidesk.models import Agent
    from omnidesk.models.auth import Credential
    from omnidesk.services import accounts

    settings = _settings()
    with unit_of_work(settings) as session:
        with_password = set(session.exec(select(Credential.agent_id)))
        rows: list[dict[str, Any]] = [
            {
                "username": a.username,
                "role": str(a.role),
                "active": a.active,
                "teams": sorted(accounts.team_names(session, a.id)),  # type: ignore[arg-type]
                "can_sign_in": a.active and a.id in with_password,
            }
            for a in session.exec(select(Agent).order_by(Agent.username))
        ]
    if json_out:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("username", "role", "teams", "active", "can sign in")
    for r in rows:
        table.add_row(
            r["username"], r["role"], ",".join(r["teams"]), str(r["active"]), str(r["can_sign_in"])
        )
    Console().print(table)


@users_app.command("set-password")
def set_password(
    username: str, password_stdin: PasswordStdin = False, password: PasswordOpt = None
) -> None:
    """Set a user's password (also for agents from the config file); unlocks the account."""
    from omnidesk.db import unit_of_work
    from omnidesk.services import accounts, audit
    from omnidesk.services.problems import Rejected

    settings = _settings()
    secret = _password(password_stdin, password)
    try:
        with unit_of_work(settings) as session:
            agent = accounts.find_agent(session, username)
            if agent is None:
                raise _fail(f"no user {username!r}")
            accounts.set_password(session, agent, secret)
            audit.record(session, "cli", "password_set", "agent", username)
    except Rejected as exc:
        raise _fail(str(exc)) from exc
    err.print(f"password set for {username}")


@users_app.command("token")
def token(username: str, name: Annotated[str, typer.Option(help="What the token is for.")]) -> None:
    """Make an API token for a user; the secret is printed once, on stdout."""
    from omnidesk.db import unit_of_work
    from omnidesk.services import accounts, audit

    settings = _settings()
    with unit_of_work(settings) as session:
        agent = accounts.find_agent(session, username)
        if agent is None:
            raise _fail(f"no user {username!r}")
        secret, row = accounts.create_token(session, agent, name)
        audit.record(
            session, "cli", "token_created", "api_token", row.id, name=name, owner=username
        )
    sys.stdout.write(secret + "\n")
    err.print(f"token {row.id} ({name}) for {username}: shown once, keep it safe")
