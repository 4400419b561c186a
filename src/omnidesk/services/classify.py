"""Stage 2, classify: label a new request with category, priority, language and entities.

The labeller is pluggable (`Labeller`); the desk's own is the trained triage classifier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlmodel import Session

from omnidesk.models import Message, Priority, Request
from omnidesk.services import events
from omnidesk.services.pipeline import Task
from omnidesk.triage import store
from omnidesk.triage.classify import Classifier


@dataclass(frozen=True)
class Label:
    category: str
    confidence: float
    priority: Priority
    language: str
    needs_triage: bool = False
    entities: dict[str, list[str]] = field(default_factory=dict)
    rule: str | None = None


class Labeller(Protocol):
    def label(self, text: str, subject: str | None, channel: str | None) -> Label: ...


class TriageLabeller:
    """The desk's trained classifier (omnidesk.triage); picks up a newly activated version
    (retraining, rollback) within `recheck_seconds`."""

    def __init__(self, model_dir: Path, recheck_seconds: float = 60.0) -> None:
        self.model_dir = model_dir
        self.recheck_seconds = recheck_seconds
        self.classifier = Classifier.load(model_dir)
        self._checked = time.monotonic()

    def _current(self) -> Classifier:
        if time.monotonic() - self._checked > self.recheck_seconds:
            self._checked = time.monotonic()
            if store.active_version(self.model_dir) != self.classifier.version:
                self.classifier = Classifier.load(self.model_dir)
        return self.classifier

    def label(self, text: str, subject: str | None = None, channel: str | None = None) -> Label:
        triage = self._current().classify(text, subject, channel)
        return Label(
            category=triage.category,
            confidence=triage.confidence,
            priority=Priority(triage.priority),
            language=triage.language,
            needs_triage=triage.needs_triage,
            entities={k: list(v) for k, v in triage.entities.items() if v},
            rule=triage.rule,
        )


Question = tuple[str, str | None, str | None]  # text, subject, channel: what `label` reads


def question(session: Session, message: Message) -> Question | None:
    """What to label, or None when the request is labelled already (or there is none).

    Read before the write transaction: the classifier runs with none open (durability
    contract §6), then `apply` writes its label in a short one that checks again.
    """
    if message.request_id is None:
        return None
    request = session.get(Request, message.request_id)
    if request is None or request.category is not None:
        return None
    return message.text, message.subject, message.channel


def run(session: Session, message: Message, labeller: Labeller) -> list[Task]:
    """Label the message's request once, in one go (tools and tests; the actor splits it)."""
    asked = question(session, message)
    return apply(session, message, labeller.label(*asked) if asked else None)


def apply(session: Session, message: Message, label: Label | None) -> list[Task]:
    """Write the label of the message's request once; later messages change nothing here."""
    if label is None or message.request_id is None:
        return []
    request = session.get(Request, message.request_id)
    if request is None or request.category is not None:
        return []  # labelled meanwhile (an agent, or a duplicate delivery): theirs stands
    request.category = label.category
    request.category_confidence = label.confidence
    request.priority = label.priority
    request.language = label.language
    request.needs_triage = label.needs_triage
    session.add(request)
    events.record(
        session,
        "classified",
        request_id=request.id,
        message_id=message.id,
        category=label.category,
        confidence=round(label.confidence, 4),
        priority=str(label.priority),
        language=label.language,
        needs_triage=label.needs_triage,
        rule=label.rule,
        entities=label.entities,
    )
    return []
