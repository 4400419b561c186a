"""Triage of one request: category, confidence, priority, language and entities."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidesk.errors import ModelError
from omnidesk.triage import store
from omnidesk.triage.config import Priority, TriageConfig, load_config
from omnidesk.triage.entities import EntityExtractor
from omnidesk.triage.language import Language, detect_language
from omnidesk.triage.normalize import normalize, strip_quoted
from omnidesk.triage.priority import decide_priority
from omnidesk.triage.rules import Rules

if TYPE_CHECKING:
    from omnidesk.triage.model import Model  # numpy: loaded with the model, not with this

DATA_DIR_ENV = "OMNIDESK_DATA_DIR"
MODEL_DIR_ENV = "OMNIDESK_MODEL_DIR"


def default_model_dir() -> Path:
    """$OMNIDESK_MODEL_DIR, else $OMNIDESK_DATA_DIR/models/triage (data dir default ./var)."""
    if explicit := os.environ.get(MODEL_DIR_ENV):
        return Path(explicit)
    return Path(os.environ.get(DATA_DIR_ENV) or "var") / "models" / "triage"


@dataclass(frozen=True, slots=True)
class Triage:
    """The triage of one request."""

    category: str
    confidence: float
    priority: Priority
    language: Language
    entities: dict[str, list[str]]
    needs_triage: bool
    """True when the confidence is below the threshold and no rule decided: a human should look."""
    rule: str | None = None
    """The rule that decided the category, if one did."""
    cues: tuple[str, ...] = ()
    """Every rule and cue behind the priority."""
    model_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["cues"] = list(self.cues)
        return data


def compose(text: str, subject: str | None = None) -> str:
    """The text triage reads: the subject, then the body without its quoted earlier messages."""
    body = strip_quoted(text)
    return f"{subject}\n{body}" if subject and subject.strip() else body


class Classifier:
    """A loaded model with its configuration: load once, classify many."""

    def __init__(self, model: Model, config: TriageConfig, version: str | None = None) -> None:
        """Wrap a loaded model; raise ModelError if it knows categories `config` does not."""
        unknown = set(model.categories) - set(config.categories)
        if unknown:
            raise ModelError(
                f"model {version or ''} knows categories the configuration does not: "
                f"{', '.join(sorted(unknown))}; retrain it"
            )
        self.model = model
        self.config = config
        self.version = version
        self._rules = Rules(config)
        self._entities = EntityExtractor(config.entities)
        self._columns = {name: i for i, name in enumerate(model.categories)}

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        config: TriageConfig | None = None,
        *,
        version: str | None = None,
        train_if_missing: bool = True,
    ) -> Classifier:
        """The active (or given) model version of `model_dir`; trains the default one if none."""
        directory = model_dir or default_model_dir()
        config = config or load_config()
        if version is None and store.active_version(directory) is None and train_if_missing:
            from omnidesk.triage.train import ensure_model

            ensure_model(directory, config)
        chosen, model = store.load_version(directory, version)
        return cls(model, config, chosen)

    def classify(self, text: str, subject: str | None = None, channel: str | None = None) -> Triage:
        """Triage one request."""
        clean = normalize(compose(text, subject))
        probabilities = self.model.probabilities(clean)
        best = int(probabilities.argmax())
        category, confidence = self.model.categories[best], float(probabilities[best])
        hit = self._rules.check(clean, channel)
        if hit.category is not None:
            column = self._columns.get(hit.category)
            own = float(probabilities[column]) if column is not None else 0.0
            category, confidence = hit.category, max(own, hit.confidence)
        base = self.config.categories[category].priority
        negativity = self._rules.negativity(clean)
        priority, cues = decide_priority(base, hit, negativity, self.config.sentiment.threshold)
        return Triage(
            category=category,
            confidence=round(confidence, 4),
            priority=priority,
            language=detect_language(clean),
            entities=self._entities.extract(clean),
            needs_triage=hit.category is None and confidence < self.config.model.threshold,
            rule=hit.rule,
            cues=cues,
            model_version=self.version,
        )

    def classify_many(self, texts: Iterable[str]) -> list[Triage]:
        """Triage several requests given as bodies only."""
        return [self.classify(text) for text in texts]


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    """The process's classifier: the default directory's active model, loaded once.

    After a retrain or rollback, `default_classifier.cache_clear()` makes the next call reload.
    """
    return Classifier.load()


def classify(text: str, subject: str | None = None, channel: str | None = None) -> Triage:
    """Triage one request with the default classifier."""
    return default_classifier().classify(text, subject, channel)
