"""Triage configuration (config/triage.toml): categories, threshold, entity patterns and rules."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from omnidesk.errors import ConfigError
from omnidesk.patterns import check_linear

Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
CONFIG_ENV = "OMNIDESK_TRIAGE_CONFIG"


def priority_rank(priority: Priority) -> int:
    """0 for low up to 3 for urgent."""
    return PRIORITIES.index(priority)


DEFAULT_CONFIG = Path("config/triage.toml")
# The repository's copy, used when the process does not run from the repository root (tests, tools).
_REPO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "triage.toml"


def _check_regex(pattern: str, *, ignore_case: bool = False) -> str:
    # Configured patterns run on RE2 (omnidesk.patterns): refused here unless linear-time.
    return check_linear(pattern, ignore_case=ignore_case)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    """One category: its labels in both languages and the priority its requests start from."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    description: str = ""
    priority: Priority = "normal"


class ModelSettings(_Strict):
    """How the learned model is used and retrained."""

    threshold: float = Field(default=0.45, ge=0.0, le=1.0)
    correction_weight: float = Field(default=3.0, gt=0.0, le=100.0)
    activation_tolerance: float = Field(default=0.0, ge=0.0, le=1.0)


class EntityPatterns(_Strict):
    r"""Entity patterns, run on RE2 (\b, \d, \w are ASCII, so \b works beside Chinese)."""

    order_number: str = r"\b\d{10,20}\b"
    tracking: tuple[str, ...] = ()

    @field_validator("order_number")
    @classmethod
    def _order_regex(cls, value: str) -> str:
        return _check_regex(value)

    @field_validator("tracking")
    @classmethod
    def _tracking_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_regex(p, ignore_case=True) for p in value)


class Rule(_Strict):
    """A must-not-miss rule: any pattern found forces the category and/or raises the priority."""

    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    patterns: tuple[str, ...] = Field(min_length=1)
    category: str | None = None
    priority: Priority | None = None
    channels: tuple[str, ...] = ()
    confidence: float = Field(default=0.95, ge=0.0, le=1.0)

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_regex(p, ignore_case=True) for p in value)

    @model_validator(mode="after")
    def _does_something(self) -> Rule:
        if self.category is None and self.priority is None:
            raise ValueError(f"rule {self.name!r} sets neither category nor priority")
        return self


class Sentiment(_Strict):
    """Negative-sentiment cues: this many hits raise the priority one step (up to high)."""

    negative: tuple[str, ...] = ()
    threshold: int = Field(default=2, ge=1)

    @field_validator("negative")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_regex(p, ignore_case=True) for p in value)


class TriageConfig(_Strict):
    """The whole [triage] configuration."""

    categories: dict[str, Category] = Field(min_length=2)
    model: ModelSettings = ModelSettings()
    entities: EntityPatterns = EntityPatterns()
    rules: tuple[Rule, ...] = ()
    sentiment: Sentiment = Sentiment()

    @field_validator("categories")
    @classmethod
    def _category_names(cls, value: dict[str, Category]) -> dict[str, Category]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"category name {name!r} must be lower_snake_case")
        return value

    @model_validator(mode="after")
    def _rules_agree(self) -> TriageConfig:
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule names: {', '.join(duplicates)}")
        for rule in self.rules:
            if rule.category is not None and rule.category not in self.categories:
                known = ", ".join(self.categories)
                raise ValueError(
                    f"rule {rule.name!r} names unknown category {rule.category!r} (known: {known})"
                )
        return self

    @property
    def category_names(self) -> tuple[str, ...]:
        """The category names in configuration order."""
        return tuple(self.categories)


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def parse_config(data: dict[str, object], source: str = "<dict>") -> TriageConfig:
    """Validate a parsed TOML document; raise ConfigError naming the source and the bad keys."""
    try:
        return TriageConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid triage configuration\n{_format_errors(exc)}") from exc


def config_path(path: Path | None = None) -> Path:
    """The file to read: the argument, $OMNIDESK_TRIAGE_CONFIG, ./config/triage.toml, the repo's."""
    if path is not None:
        return path
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    if DEFAULT_CONFIG.is_file():
        return DEFAULT_CONFIG
    return _REPO_CONFIG


def load_config(path: Path | None = None) -> TriageConfig:
    """Read and validate the triage configuration file."""
    source = config_path(path)
    try:
        with source.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{source}: triage configuration file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    return parse_config(data, str(source))
