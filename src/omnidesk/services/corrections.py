"""An agent's category change: applied to the request and kept as a correction for training."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from omnidesk.db import read_session, unit_of_work
from omnidesk.models import Correction, Direction, Message, Request, utcnow
from omnidesk.services import events
from omnidesk.settings import Settings
from omnidesk.triage import store
from omnidesk.triage.config import TriageConfig

if TYPE_CHECKING:
    from omnidesk.triage.train import TrainResult


def recategorise(
    session: Session,
    request_id: int,
    category: str,
    actor: str,
    config: TriageConfig,
    model_dir: Path | None = None,
) -> Correction | None:
    """Set the request's category; return the stored correction (None if nothing changed)."""
    if category not in config.category_names:
        known = ", ".join(config.category_names)
        raise ValueError(f"unknown category {category!r} (known: {known})")
    request = session.get(Request, request_id)
    if request is None:
        raise LookupError(f"no request #{request_id}")
    if request.category == category:
        return None
    correction = Correction(
        request_id=request_id,
        text=_first_text(session, request_id),
        language=request.language,
        from_category=request.category,
        to_category=category,
        actor=actor,
        model_version=store.active_version(model_dir) if model_dir else None,
    )
    session.add(correction)
    events.record(
        session,
        "recategorised",
        request_id=request_id,
        actor=actor,
        from_category=request.category,
        to_category=category,
    )
    request.category = category
    request.needs_triage = False
    request.updated_at = utcnow()
    session.add(request)
    session.flush()
    return correction


def _first_text(session: Session, request_id: int) -> str:
    stmt = (
        select(Message)
        .where(Message.request_id == request_id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id))
    )
    first = session.exec(stmt).first()
    if first is None:
        return ""
    return f"{first.subject}\n{first.text}".strip() if first.subject else first.text


def training_pairs(session: Session) -> list[tuple[str, str]]:
    """Every correction's (text, category), the latest per request winning."""
    latest: dict[int, tuple[str, str]] = {}
    for c in session.exec(select(Correction).order_by(col(Correction.id))):
        if c.text.strip():
            latest[c.request_id] = (c.text, c.to_category)
    return list(latest.values())


def untrained(session: Session) -> int:
    stmt = select(Correction).where(col(Correction.trained_in).is_(None))
    return len(session.exec(stmt).all())


def retrain_with_corrections(
    settings: Settings,
    model_dir: Path,
    config: TriageConfig,
    *,
    force: bool = False,
    extra: list[tuple[str, str]] | None = None,
) -> TrainResult:
    """Train on the training set plus every correction; mark those used when activated.

    Training takes seconds: the corrections are read in a read-only session, the model is
    trained with no transaction open, and only the outcome is written, in a short one
    (DESIGN.md, contract §6). A correction made while training is left for the next time.
    """
    with read_session(settings) as session:
        pairs = training_pairs(session) + list(extra or [])
        used = [c.id for c in session.exec(select(Correction)) if c.trained_in is None]
    from omnidesk.triage.train import retrain  # numpy and scikit-learn: only to train

    result = retrain(model_dir, pairs, config=config, force=force)
    with unit_of_work(settings) as session:
        record_training(session, result, used)  # type: ignore[arg-type]
    return result


def record_training(session: Session, result: TrainResult, used: list[int]) -> None:
    """The outcome of a training run: its corrections marked used (if activated), an event."""
    if result.activated and used:
        stmt = select(Correction).where(
            col(Correction.id).in_(used), col(Correction.trained_in).is_(None)
        )
        for c in session.exec(stmt):
            c.trained_in = result.version
            session.add(c)
    events.record(
        session,
        "classifier_trained",
        version=result.version,
        activated=result.activated,
        reason=result.reason,
        macro_f1=round(result.report.macro_f1, 4),
        corrections=result.corrections_used,
    )
