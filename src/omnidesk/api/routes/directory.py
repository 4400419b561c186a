"""/api/v1/teams and /api/v1/routing-rules: teams and the ordered rules that route to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from sqlmodel import Session

from omnidesk.api.admin_schemas import RuleIn, RuleOrderIn, RuleOut, TeamIn, TeamOut, TeamUpdate
from omnidesk.api.deps import AdminAgent, CurrentAgent, SessionDep, StaffAgent, desk_of
from omnidesk.api.routes.requests import triage_config
from omnidesk.api.schemas import PROBLEMS
from omnidesk.config_file import RuleConfig
from omnidesk.models import RoutingRule, Team
from omnidesk.services import admin_directory, audit
from omnidesk.triage.config import TriageConfig

router = APIRouter(tags=["teams and routing"], responses=PROBLEMS)
Triage = Annotated[TriageConfig, Depends(triage_config)]


def _team(session: Session, name: str) -> Team:
    team = admin_directory.find_team(session, name)
    if team is None:
        raise HTTPException(404, f"no team {name!r}")
    return team


def _team_out(session: Session, name: str) -> TeamOut:
    row = next(t for t in admin_directory.team_rows(session) if t["name"] == name)
    return TeamOut.model_validate(row)


@router.get("/teams")
def teams(me: CurrentAgent, session: SessionDep) -> list[TeamOut]:
    """Every team with its members, hours and lead."""
    return [TeamOut.model_validate(t) for t in admin_directory.team_rows(session)]


@router.post("/teams", status_code=status.HTTP_201_CREATED)
def create_team(body: TeamIn, me: AdminAgent, session: SessionDep, request: Request) -> TeamOut:
    """A new team (members join it through PATCH /agents/{username})."""
    team = admin_directory.save_team(session, desk_of(request).config, body.model_dump())
    audit.record(session, me.username, "team_created", "team", team.name, **body.model_dump())
    return _team_out(session, team.name)


@router.patch("/teams/{name}")
def update_team(
    name: str, body: TeamUpdate, me: AdminAgent, session: SessionDep, request: Request
) -> TeamOut:
    """Change a console team's display name, hours or lead (file teams are read-only)."""
    values = body.model_dump(exclude_unset=True)
    admin_directory.save_team(session, desk_of(request).config, values, _team(session, name))
    audit.record(session, me.username, "team_updated", "team", name, **values)
    return _team_out(session, name)


@router.delete("/teams/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_team(name: str, me: AdminAgent, session: SessionDep) -> None:
    """Delete a console team without open requests or rules sending to it."""
    admin_directory.delete_team(session, _team(session, name))
    audit.record(session, me.username, "team_deleted", "team", name)


def _rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise HTTPException(404, f"no routing rule {rule_id}")
    return rule


def _checked(session: Session, body: RuleIn, request: Request, triage: TriageConfig) -> RuleConfig:
    desk = desk_of(request)
    return admin_directory.check_rule(
        session, body.model_dump(), desk.config, triage.category_names, desk.registry.classes
    )


@router.get("/routing-rules")
def rules(me: StaffAgent, session: SessionDep) -> list[RuleOut]:
    """Every rule in the order they are tried: the file's first, then the console's."""
    return [RuleOut.model_validate(r) for r in admin_directory.rule_rows(session)]


@router.post("/routing-rules", status_code=status.HTTP_201_CREATED)
def create_rule(
    body: RuleIn, me: AdminAgent, session: SessionDep, request: Request, triage: Triage
) -> RuleOut:
    """A console rule, tried after every earlier rule; errors are keyed by field."""
    rule = admin_directory.save_rule(session, _checked(session, body, request, triage))
    audit.record(session, me.username, "rule_created", "routing_rule", rule.id, **body.model_dump())
    return RuleOut.model_validate(admin_directory.rule_row(rule))


@router.put("/routing-rules/order")
def reorder_rules(body: RuleOrderIn, me: AdminAgent, session: SessionDep) -> list[RuleOut]:
    """Put the console rules in a new order (they stay after the file's)."""
    admin_directory.reorder_rules(session, body.ids)
    audit.record(session, me.username, "rules_reordered", "routing_rule", None, ids=body.ids)
    return [RuleOut.model_validate(r) for r in admin_directory.rule_rows(session)]


@router.put("/routing-rules/{rule_id}")
def update_rule(
    rule_id: int,
    body: RuleIn,
    me: AdminAgent,
    session: SessionDep,
    request: Request,
    triage: Triage,
) -> RuleOut:
    """Replace a console rule (file rules are read-only)."""
    row = _rule(session, rule_id)
    before = admin_directory.rule_row(row)
    rule = admin_directory.save_rule(session, _checked(session, body, request, triage), row)
    after = admin_directory.rule_row(rule)
    audit.record(
        session,
        me.username,
        "rule_updated",
        "routing_rule",
        rule_id,
        changes=audit.changes(before, after),
    )
    return RuleOut.model_validate(after)


@router.delete("/routing-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: int, me: AdminAgent, session: SessionDep) -> None:
    """Delete a console rule."""
    row = _rule(session, rule_id)
    admin_directory.delete_rule(session, row)
    audit.record(session, me.username, "rule_deleted", "routing_rule", rule_id, name=row.name)
