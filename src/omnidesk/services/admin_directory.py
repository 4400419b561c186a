"""The console's side of the directory: agents, teams and routing rules made by admins.

Entries from the config file are synced at every start (services.directory), so the console
leaves them alone: a file agent only gets a password or is deactivated here; file teams and
rules are read-only. Console rules come after the file's (positions from CONSOLE_RULES_START).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from omnidesk.config_file import NAME, DeskConfig, RuleConfig
from omnidesk.models import (
    OPEN_STATUSES,
    Agent,
    AgentTeam,
    Request,
    Role,
    RoutingRule,
    Team,
)
from omnidesk.services import accounts
from omnidesk.services.directory import CONSOLE_RULES_START
from omnidesk.services.problems import Rejected
from omnidesk.services.rules import CONDITION_KEYS

AGENT_FIELDS = (
    "display_name",
    "email",
    "role",
    "categories",
    "languages",
    "channels",
    "capacity",
    "active",
)
FILE_AGENT_FIELDS = frozenset({"active", "password"})


def _read_only(what: str) -> Rejected:
    return Rejected.one("base", "read_only", f"{what} comes from the config file", status=409)


def agent_row(agent: Agent, teams: Iterable[str]) -> dict[str, Any]:
    return agent.model_dump(mode="json") | {"teams": sorted(teams)}


def _active_admins(session: Session) -> int:
    stmt = select(func.count()).where(Agent.role == Role.ADMIN, col(Agent.active).is_(True))
    return int(session.exec(stmt).one())


def update_agent(session: Session, agent: Agent, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply an admin's changes to an agent; returns what changed (for the audit log)."""
    if agent.source == "file" and set(changes) - FILE_AGENT_FIELDS:
        field = sorted(set(changes) - FILE_AGENT_FIELDS)[0]
        raise Rejected.one(field, "read_only", "file agents change in the config file", status=409)
    losing_admin = (
        agent.role == Role.ADMIN
        and agent.active
        and (changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("active") is False)
    )
    if losing_admin and _active_admins(session) <= 1:
        raise Rejected.one("role", "last_admin", "the desk needs an active admin", status=409)
    before = agent.model_dump(mode="json")
    for key in AGENT_FIELDS:
        if key in changes:
            setattr(agent, key, changes[key])
    if "teams" in changes:
        accounts.set_teams(session, agent, tuple(changes["teams"]))
    if "password" in changes:
        accounts.set_password(session, agent, changes["password"])
    if changes.get("active") is False:
        accounts.end_sessions(session, agent.id)  # type: ignore[arg-type]
        accounts.revoke_tokens(session, agent.id)  # type: ignore[arg-type]
    session.add(agent)
    after = agent.model_dump(mode="json")
    diff: dict[str, Any] = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if "teams" in changes:
        diff["teams"] = list(changes["teams"])
    if "password" in changes:
        diff["password_changed"] = True
    return diff


# -- teams -------------------------------------------------------------------------------------


def team_rows(session: Session) -> list[dict[str, Any]]:
    members: dict[int, list[str]] = {}
    stmt = select(AgentTeam.team_id, Agent.username).join(
        Agent, col(Agent.id) == col(AgentTeam.agent_id)
    )
    for team_id, username in session.exec(stmt):
        members.setdefault(team_id, []).append(username)
    teams = session.exec(select(Team).order_by(col(Team.name)))
    return [
        t.model_dump(mode="json") | {"members": sorted(members.get(t.id or 0, []))} for t in teams
    ]


def find_team(session: Session, name: str) -> Team | None:
    return session.exec(select(Team).where(Team.name == name)).first()


def save_team(
    session: Session, config: DeskConfig, values: dict[str, Any], team: Team | None = None
) -> Team:
    """Create a console team (`team` None) or change one; file teams are read-only."""
    if team is not None and team.source == "file":
        raise _read_only(f"team {team.name}")
    name = values.get("name", team.name if team else "")
    if team is None and not re.match(NAME, name or ""):
        raise Rejected.one("name", "invalid", "lowercase letters, digits, '.', '_', '-'")
    if team is None and find_team(session, name) is not None:
        raise Rejected.one("name", "already_exists", f"team {name!r} exists", status=409)
    if "hours" in values and values["hours"] not in config.hours:
        raise Rejected.one("hours", "unknown_hours", f"no [[hours]] named {values['hours']!r}")
    if values.get("lead") and accounts.find_agent(session, values["lead"]) is None:
        raise Rejected.one("lead", "unknown_agent", f"no agent {values['lead']!r}")
    team = team or Team(name=name, source="console")
    for key in ("display_name", "hours", "lead"):
        if key in values:
            setattr(team, key, values[key])
    session.add(team)
    session.flush()
    return team


def delete_team(session: Session, team: Team) -> None:
    if team.source == "file":
        raise _read_only(f"team {team.name}")
    busy = select(func.count()).where(
        Request.team == team.name, col(Request.status).in_(OPEN_STATUSES)
    )
    if session.exec(busy).one():
        raise Rejected.one("base", "has_open_requests", "move its open requests first", status=409)
    if session.exec(select(RoutingRule).where(RoutingRule.team == team.name)).first():
        raise Rejected.one("base", "used_by_rules", "a routing rule sends to it", status=409)
    session.exec(delete(AgentTeam).where(col(AgentTeam.team_id) == team.id))
    session.delete(team)


# -- routing rules -----------------------------------------------------------------------------


def rule_row(rule: RoutingRule) -> dict[str, Any]:
    return rule.model_dump(mode="json")


def rule_rows(session: Session) -> list[dict[str, Any]]:
    stmt = select(RoutingRule).order_by(col(RoutingRule.position), col(RoutingRule.id))
    return [rule_row(r) for r in session.exec(stmt)]


def check_rule(
    session: Session,
    data: dict[str, Any],
    config: DeskConfig,
    categories: Iterable[str],
    channels: Iterable[str],
) -> RuleConfig:
    """Validate a console rule like a file rule, then the names it refers to."""
    try:
        rule = RuleConfig.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors(include_input=False, include_url=False):
            errors.setdefault(str(err["loc"][0]) if err["loc"] else "base", err["type"])
        raise Rejected(errors, str(exc.errors(include_input=False)[0]["msg"])) from None
    problems = {}
    if rule.team and find_team(session, rule.team) is None:
        problems["team"] = "unknown_team"
    if rule.sla and rule.sla not in {p.name for p in config.sla}:
        problems["sla"] = "unknown_sla"
    if set(rule.category) - set(categories):
        problems["category"] = "unknown_category"
    if set(rule.channel) - set(channels):
        problems["channel"] = "unknown_channel"
    if problems:
        raise Rejected(problems, "the rule names things that do not exist")
    return rule


def save_rule(session: Session, rule: RuleConfig, row: RoutingRule | None = None) -> RoutingRule:
    """Create a console rule at the end of the list, or change one; file rules are read-only."""
    if row is not None and row.source == "file":
        raise _read_only(f"rule {row.name}")
    if row is None:
        last = session.exec(
            select(func.max(RoutingRule.position)).where(RoutingRule.source == "console")
        ).one()
        row = RoutingRule(
            position=max(last or 0, CONSOLE_RULES_START - 1) + 1, name=rule.name, source="console"
        )
    row.name = rule.name
    row.conditions = {k: list(getattr(rule, k)) for k in CONDITION_KEYS}
    row.team, row.priority, row.sla = rule.team, rule.set_priority, rule.sla
    row.enabled = rule.enabled
    session.add(row)
    session.flush()
    return row


def delete_rule(session: Session, row: RoutingRule) -> None:
    if row.source == "file":
        raise _read_only(f"rule {row.name}")
    session.delete(row)


def reorder_rules(session: Session, ids: list[int]) -> None:
    """Put the console rules in this order (every console rule, once)."""
    rows = session.exec(select(RoutingRule).where(RoutingRule.source == "console"))
    console = {r.id: r for r in rows if r.id is not None}
    if sorted(ids) != sorted(console):
        raise Rejected.one("ids", "not_every_console_rule", "list every console rule once")
    for offset, rule_id in enumerate(ids):
        console[rule_id].position = CONSOLE_RULES_START + offset
        session.add(console[rule_id])
