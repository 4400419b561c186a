"""Teams, agents and routing rules from the config file, synced into the database at start.

The file's entries are marked `source = "file"`; entries made in the console are left alone.
An agent's live availability is only taken from the file when the agent is first created.
"""

from __future__ import annotations

from sqlmodel import Session, col, delete, select

from omnidesk.config_file import AgentConfig, DeskConfig, RuleConfig, TeamConfig
from omnidesk.models import Agent, AgentTeam, Availability, Role, RoutingRule, Team
from omnidesk.services.rules import CONDITION_KEYS, Rule, rule_from_row

CONSOLE_RULES_START = 1000


def sync(session: Session, config: DeskConfig) -> None:
    teams = {t.name: _upsert_team(session, t) for t in config.teams}
    for agent in config.agents:
        _upsert_agent(session, agent, teams)
    _replace_file_rules(session, config.routing.rules)


def _upsert_team(session: Session, config: TeamConfig) -> Team:
    team = session.exec(select(Team).where(Team.name == config.name)).first() or Team(
        name=config.name
    )
    team.display_name = config.display_name
    team.hours = config.hours
    team.lead = config.lead
    team.source = "file"
    session.add(team)
    session.flush()
    return team


def _upsert_agent(session: Session, config: AgentConfig, teams: dict[str, Team]) -> None:
    agent = session.exec(select(Agent).where(Agent.username == config.username)).first()
    if agent is None:
        agent = Agent(username=config.username, availability=Availability(config.availability))
    agent.display_name = config.name
    agent.email = config.email
    agent.role = Role(config.role)
    agent.categories = list(config.categories)
    agent.languages = list(config.languages)
    agent.channels = list(config.channels)
    agent.capacity = config.capacity
    agent.source = "file"
    session.add(agent)
    session.flush()
    session.exec(delete(AgentTeam).where(col(AgentTeam.agent_id) == agent.id))  # type: ignore[call-overload]
    for name in config.teams:
        session.add(AgentTeam(agent_id=agent.id, team_id=teams[name].id))  # type: ignore[arg-type]


def _replace_file_rules(session: Session, rules: tuple[RuleConfig, ...]) -> None:
    session.exec(delete(RoutingRule).where(col(RoutingRule.source) == "file"))  # type: ignore[call-overload]
    for position, rule in enumerate(rules):
        session.add(
            RoutingRule(
                position=position,
                name=rule.name,
                conditions={k: list(getattr(rule, k)) for k in CONDITION_KEYS},
                team=rule.team,
                priority=rule.set_priority,
                sla=rule.sla,
                enabled=rule.enabled,
                source="file",
            )
        )


def active_rules(session: Session) -> list[Rule]:
    """Every enabled rule in order: the file's first, then the console's."""
    stmt = (
        select(RoutingRule)
        .where(col(RoutingRule.enabled).is_(True))
        .order_by(col(RoutingRule.position), col(RoutingRule.id))
    )
    return [
        rule_from_row(r.name, r.conditions, r.team, r.priority, r.sla) for r in session.exec(stmt)
    ]
