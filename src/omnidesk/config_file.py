"""Load the TOML config: connectors (${ENV} secrets), teams, routing; every error at once."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from omnidesk.errors import ConfigError
from omnidesk.services.feedback_config import FeedbackConfig, FollowUpConfig
from omnidesk.services.hours import BusinessHours
from omnidesk.services.hours_config import HoursConfig, SlaPolicyConfig, check_unique
from omnidesk.services.knowledge import KbEntry, KnowledgeConfig
from omnidesk.services.orders import OrderSystemConfig
from omnidesk.validation import format_validation

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"
PRIORITIES = ("urgent", "high", "normal", "low")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamConfig(_Strict):
    """`[[teams]]`: a team, the categories it takes by default, its hours and its lead."""

    name: str = Field(pattern=NAME)
    display_name: str | None = None
    categories: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    hours: str = "default"
    lead: str | None = None


class AgentConfig(_Strict):
    """`[[agents]]`: a person, their teams, skills (empty: any), capacity and availability."""

    username: str = Field(pattern=NAME)
    name: str | None = None
    email: str | None = None
    role: Literal["admin", "supervisor", "agent"] = "agent"
    teams: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    capacity: int = Field(default=10, ge=0, le=1000)
    availability: Literal["online", "away", "offline"] = "online"


class RuleConfig(_Strict):
    """`[[routing.rules]]`: conditions (all must hold; a list means any of) → team/priority/SLA."""

    name: str
    category: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    team: str | None = None
    set_priority: Literal["urgent", "high", "normal", "low"] | None = None
    sla: str | None = None
    enabled: bool = True

    @field_validator("priority")
    @classmethod
    def _known_priorities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [p for p in value if p not in PRIORITIES]
        if unknown:
            raise ValueError(f"unknown priority {unknown[0]!r} (use {', '.join(PRIORITIES)})")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> RuleConfig:
        if not (self.team or self.set_priority or self.sla):
            raise ValueError("a rule must set team, set_priority or sla")
        return self


class RoutingConfig(_Strict):
    default_team: str = "general"
    rules: tuple[RuleConfig, ...] = ()


class DeskInfo(_Strict):
    name: str = "TP官方客服"
    name_en: str = "TP Customer Service"
    default_language: str = "zh"
    time_zone: str = "Asia/Shanghai"


DEFAULT_SLA: tuple[dict[str, str], ...] = (
    {"name": "urgent", "priority": "urgent", "first_response": "30m", "resolution": "4h"},
    {"name": "high", "priority": "high", "first_response": "1h", "resolution": "1d"},
    {"name": "normal", "priority": "normal", "first_response": "4h", "resolution": "3d"},
    {"name": "low", "priority": "low", "first_response": "1d", "resolution": "5d"},
)


@dataclass(frozen=True)
class DeskConfig:
    """The parsed file. Connector tables are plain dicts here; the registry validates them."""

    path: Path | None
    connectors: list[dict[str, Any]] = field(default_factory=list)
    teams: tuple[TeamConfig, ...] = ()
    agents: tuple[AgentConfig, ...] = ()
    routing: RoutingConfig = RoutingConfig()
    desk: DeskInfo = DeskInfo()
    hours: dict[str, BusinessHours] = field(default_factory=dict)
    sla: tuple[SlaPolicyConfig, ...] = ()
    order_system: OrderSystemConfig | None = None
    knowledge: KnowledgeConfig = KnowledgeConfig()
    follow_up: FollowUpConfig = FollowUpConfig()
    feedback: FeedbackConfig = FeedbackConfig()
    extra: dict[str, Any] = field(default_factory=dict)
    # What the admin console works from and overlays (services.settings_overlay): the file's
    # [[hours]] tables as written, the names the desk made up itself ("hours:default" when the
    # file has none, "sla:<name>" for DEFAULT_SLA), the console's templates by (language, name)
    # and knowledge entries by (language, id), and the settings version they were read at.
    hours_tables: tuple[HoursConfig, ...] = ()
    built_in: frozenset[str] = frozenset()
    templates: dict[tuple[str, str], str] = field(default_factory=dict)
    knowledge_entries: dict[tuple[str, str], KbEntry] = field(default_factory=dict)
    settings_version: int = 0


def load(
    path: Path, environ: Mapping[str, str] | None = None, *, required: bool = False
) -> DeskConfig:
    """Read and check the file; raise ConfigError listing every problem with its table and key."""
    env = os.environ if environ is None else environ
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: config file not found")
        data: dict[str, Any] = {}
        return _build(None, data, env)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return _build(path, data, env)


def _build(path: Path | None, data: dict[str, Any], env: Mapping[str, str]) -> DeskConfig:
    errors: list[str] = []
    where = path or Path("(defaults)")
    connectors = _connector_tables(where, data.pop("connectors", []), env, errors)
    teams = _section(where, "teams", data.pop("teams", []), TeamConfig, errors, many=True)
    agents = _section(where, "agents", data.pop("agents", []), AgentConfig, errors, many=True)
    routing = _section(where, "routing", data.pop("routing", {}), RoutingConfig, errors)
    desk = _section(where, "desk", data.pop("desk", {}), DeskInfo, errors) or DeskInfo()
    hours = _section(where, "hours", data.pop("hours", []), HoursConfig, errors, many=True)
    built_in = set() if "sla" in data else {f"sla:{p['name']}" for p in DEFAULT_SLA}
    sla = _section(
        where, "sla", data.pop("sla", list(DEFAULT_SLA)), SlaPolicyConfig, errors, many=True
    )
    order = data.pop("order_system", None)
    order_system = (
        _section(
            where,
            "order_system",
            expand(order, env, errors, f"{where}: [order_system]"),
            OrderSystemConfig,
            errors,
        )
        if order is not None
        else None
    )
    knowledge = _section(where, "knowledge", data.pop("knowledge", {}), KnowledgeConfig, errors)
    follow_up = _section(where, "follow_up", data.pop("follow_up", {}), FollowUpConfig, errors)
    feedback = _section(where, "feedback", data.pop("feedback", {}), FeedbackConfig, errors)
    _cross_check(where, teams or [], agents or [], routing, errors)
    errors += [f"{where}: {e}" for e in check_unique([h.name for h in hours or []], "hours")]
    errors += [f"{where}: {e}" for e in check_unique([p.name for p in sla or []], "sla")]
    if errors:
        raise ConfigError("\n".join(errors))
    business = {h.name: h.business_hours() for h in hours or []}
    if "default" not in business:
        business["default"] = HoursConfig(time_zone=desk.time_zone).business_hours()
        built_in.add("hours:default")
    return DeskConfig(
        path=path,
        connectors=connectors,
        teams=tuple(teams or ()),
        agents=tuple(agents or ()),
        routing=routing or RoutingConfig(),
        desk=desk,
        hours=business,
        sla=tuple(sla or ()),
        order_system=order_system,
        knowledge=knowledge or KnowledgeConfig(),
        follow_up=follow_up or FollowUpConfig(),
        feedback=feedback or FeedbackConfig(),
        extra=expand(data, env, errors, where=str(where)),
        hours_tables=tuple(hours or ()),
        built_in=frozenset(built_in),
    )


def _cross_check(
    path: Path,
    teams: list[TeamConfig],
    agents: list[AgentConfig],
    routing: RoutingConfig | None,
    errors: list[str],
) -> None:
    """Names that refer to other tables must exist: a rule's team, an agent's teams."""
    names = {t.name for t in teams}
    if len(names) != len(teams):
        errors.append(f"{path}: teams: two teams have the same name")
    for index, agent in enumerate(agents):
        for team in agent.teams:
            if team not in names:
                errors.append(f"{path}: agents[{index}] ({agent.username}).teams: no team {team!r}")
    if routing is None:
        return
    if names and routing.default_team not in names:
        errors.append(f"{path}: [routing].default_team: no team {routing.default_team!r}")
    for index, rule in enumerate(routing.rules):
        if rule.team and names and rule.team not in names:
            errors.append(
                f"{path}: routing.rules[{index}] ({rule.name}).team: no team {rule.team!r}"
            )


def _connector_tables(
    path: Path, tables: Any, env: Mapping[str, str], errors: list[str]
) -> list[dict[str, Any]]:
    if not isinstance(tables, list):
        errors.append(f"{path}: 'connectors' must be an array of tables ([[connectors]])")
        return []
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    for index, table in enumerate(tables):
        label = f"{path}: connectors[{index}] ({table.get('name', '?')})"
        expanded = expand(table, env, errors, where=label)
        name = expanded.get("name")
        if name in names:
            errors.append(f"{label}.name: duplicate connector name {name!r}")
        names.add(name)
        out.append(expanded)
    return out


def expand(value: Any, env: Mapping[str, str], errors: list[str], where: str, key: str = "") -> Any:
    """Replace ${VAR} in strings with the environment's value; a missing variable is an error."""
    if isinstance(value, dict):
        return {
            k: expand(v, env, errors, where, f"{key}.{k}" if key else k) for k, v in value.items()
        }
    if isinstance(value, list):
        return [expand(v, env, errors, where, key) for v in value]
    if not isinstance(value, str):
        return value

    def _sub(match: re.Match[str]) -> str:
        var = match.group(1)
        if var not in env:
            errors.append(f"{where}.{key}: environment variable {var} is not set")
            return ""
        return env[var]

    return _ENV_REF.sub(_sub, value)


def _section(
    path: Path, name: str, data: Any, model: type[BaseModel], errors: list[str], many: bool = False
) -> Any:
    items = data if many else [data]
    if many and not isinstance(data, list):
        errors.append(f"{path}: '{name}' must be an array of tables ([[{name}]])")
        return None
    parsed = []
    for index, item in enumerate(items):
        where = f"{path}: {name}[{index}]" if many else f"{path}: [{name}]"
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            errors.extend(format_validation(where, exc))
    return parsed if many else (parsed[0] if parsed else None)
