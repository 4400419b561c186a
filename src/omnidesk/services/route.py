"""Stage 3, route: give a new request its team (by category and language, else the default)."""

from __future__ import annotations

from sqlmodel import Session

from omnidesk.config_file import DeskConfig
from omnidesk.models import Message, Request
from omnidesk.services import events
from omnidesk.services.pipeline import Task


def choose_team(config: DeskConfig, category: str | None, language: str | None) -> tuple[str, str]:
    """The team for a request, with the reason for the event log."""
    for team in config.teams:
        if category and category in team.categories:
            if team.languages and language not in team.languages:
                continue
            return team.name, f"category {category} → team {team.name}"
    return config.routing.default_team, "no team takes this category: default team"


def run(session: Session, message: Message, config: DeskConfig) -> list[Task]:
    if message.request_id is None:
        return []
    request = session.get(Request, message.request_id)
    if request is None or request.team is not None:
        return []
    team, reason = choose_team(config, request.category, request.language)
    request.team = team
    session.add(request)
    events.record(
        session, "routed", request_id=request.id, message_id=message.id, team=team, reason=reason
    )
    return []
