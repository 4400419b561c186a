"""Routing rules as data: ordered conditions over a request's facts; the first match wins (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

CONDITION_KEYS = ("category", "channel", "language", "priority", "tags", "keywords")


@dataclass(frozen=True)
class Facts:
    """What routing may look at."""

    category: str | None
    channel: str
    language: str | None
    priority: str
    text: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: dict[str, tuple[str, ...]]
    team: str | None = None
    priority: str | None = None
    sla: str | None = None

    def matches(self, facts: Facts) -> bool:
        return all(_holds(key, values, facts) for key, values in self.conditions.items() if values)


@dataclass(frozen=True)
class Decision:
    team: str
    priority: str | None
    sla: str | None
    rule: str | None
    reason: str


def _holds(key: str, values: Sequence[str], facts: Facts) -> bool:
    if key == "keywords":
        text = facts.text.lower()
        return any(word.lower() in text for word in values)
    if key == "tags":
        return bool(facts.tags & set(values))
    return getattr(facts, key) in values


def decide(
    rules: Iterable[Rule],
    team_categories: dict[str, tuple[str, ...]],
    default_team: str,
    facts: Facts,
) -> Decision:
    """The team (with priority and SLA overrides) for these facts, and why."""
    for rule in rules:
        if rule.matches(facts):
            team = rule.team or _by_category(team_categories, facts) or default_team
            return Decision(team, rule.priority, rule.sla, rule.name, f"rule {rule.name!r} matched")
    team = _by_category(team_categories, facts)
    if team:
        return Decision(team, None, None, None, f"team {team} takes category {facts.category}")
    return Decision(default_team, None, None, None, "no rule or team matched: default team")


def _by_category(team_categories: dict[str, tuple[str, ...]], facts: Facts) -> str | None:
    for team, categories in team_categories.items():
        if facts.category in categories:
            return team
    return None


def rule_from_row(
    name: str, conditions: dict[str, Any], team: str | None, priority: str | None, sla: str | None
) -> Rule:
    clean = {k: tuple(conditions.get(k) or ()) for k in CONDITION_KEYS}
    return Rule(name=name, conditions=clean, team=team, priority=priority, sla=sla)
