"""Retraining on the training set and agents' corrections, activated only if not worse."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omnidesk.triage import store
from omnidesk.triage.classify import Classifier
from omnidesk.triage.config import TriageConfig, load_config
from omnidesk.triage.dataset import BLIND_PATH, HELDOUT_PATH, TRAIN_PATH, Example, read_examples
from omnidesk.triage.evaluate import Report, evaluate
from omnidesk.triage.fit import FOLDS, balanced, fit_model
from omnidesk.triage.model import Model, ModelError, save_model
from omnidesk.triage.normalize import normalize

Correction = tuple[str, str]
"""(text, category) as an agent set it."""


@dataclass(frozen=True)
class TrainResult:
    """What a retraining produced and whether it became the active model."""

    version: str
    activated: bool
    reason: str
    report: Report
    """The new model on the held-out set."""
    previous: str | None
    previous_report: Report | None
    corrections_used: int
    corrections_dropped: int
    """Corrections left out because their text is in the held-out or blind set."""

    @property
    def macro_f1(self) -> float:
        """The new model's held-out macro-F1."""
        return self.report.macro_f1


def _check_categories(rows: Sequence[tuple[str, str]], config: TriageConfig, what: str) -> None:
    unknown = sorted({category for _, category in rows} - set(config.categories))
    if unknown:
        raise ValueError(f"{what} use unknown categories: {', '.join(unknown)}")
    counts = Counter(category for _, category in rows)
    thin = [name for name in config.categories if counts[name] < FOLDS]
    if thin:
        raise ValueError(f"too few training lines (< {FOLDS}) for: {', '.join(thin)}")


def _training_rows(
    train: Sequence[Example], corrections: Sequence[Correction], heldout: Sequence[Example]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], int]:
    held = {normalize(e.text) for e in heldout}
    kept = [(text, cat) for text, cat in corrections if normalize(text) not in held]
    return [(e.text, e.category) for e in train], kept, len(corrections) - len(kept)


def _score_active(directory: Path, config: TriageConfig, heldout: list[Example]) -> Report | None:
    if store.active_version(directory) is None:
        return None
    try:
        return evaluate(Classifier.load(directory, config, train_if_missing=False), heldout)
    except ModelError:
        return None  # An unreadable or outdated active model is no bar to a new one.


def _metrics(result: TrainResult, train_size: int) -> dict[str, Any]:
    return {
        "version": result.version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "activated": result.activated,
        "reason": result.reason,
        "previous": result.previous,
        "previous_macro_f1": result.previous_report.macro_f1 if result.previous_report else None,
        "train_size": train_size,
        "corrections": result.corrections_used,
        "heldout": result.report.to_dict(),
    }


def _save(base_dir: Path, model: Model, corrections: Sequence[Correction]) -> Path:
    path = store.new_version_dir(base_dir)
    save_model(model, path)
    with (path / "corrections.jsonl").open("w", encoding="utf-8") as fh:
        for text, category in corrections:
            fh.write(json.dumps({"text": text, "category": category}, ensure_ascii=False) + "\n")
    return path


def _judge(
    report: Report, previous: Report | None, config: TriageConfig, force: bool
) -> tuple[bool, str]:
    """Whether the new version becomes active, and why."""
    if force:
        return True, "forced"
    if previous is None:
        return True, "no active model"
    bar = previous.macro_f1 - config.model.activation_tolerance
    if report.macro_f1 >= bar:
        return True, f"held-out macro-F1 {report.macro_f1:.4f} >= active {bar:.4f}"
    return False, f"held-out macro-F1 {report.macro_f1:.4f} < active {bar:.4f}"


def retrain(
    base_dir: Path,
    corrections: Sequence[Correction] = (),
    *,
    config: TriageConfig | None = None,
    train_path: Path = TRAIN_PATH,
    heldout_path: Path = HELDOUT_PATH,
    blind_path: Path | None = BLIND_PATH,
    force: bool = False,
) -> TrainResult:
    """Train a new version on the training set plus corrections; activate it if not worse.

    Corrections weigh `model.correction_weight` training lines each. The new version is
    activated when its held-out macro-F1 is at least the active version's (re-measured now,
    minus `model.activation_tolerance`), when there is no active version, or with `force`.
    Corrections whose text is a held-out or blind line are not trained on.
    """
    config = config or load_config()
    train, heldout = read_examples(train_path), read_examples(heldout_path)
    blind = read_examples(blind_path) if blind_path is not None and blind_path.exists() else []
    never_trained = heldout + blind
    base_rows, kept, dropped = _training_rows(train, corrections, never_trained)
    rows = base_rows + kept
    _check_categories(rows, config, "training lines and corrections")
    # Balance categories on the training set alone: corrections add weight to their category
    # rather than diluting it, as balancing over all rows would.
    balance = balanced([category for _, category in base_rows])
    boost = config.model.correction_weight
    weights = [balance[c] for _, c in base_rows] + [balance.get(c, 1.0) * boost for _, c in kept]
    model = fit_model(
        [normalize(t) for t, _ in rows], [c for _, c in rows], config.category_names, weights
    )
    previous = store.active_version(base_dir)
    previous_report = _score_active(base_dir, config, heldout)
    path = _save(base_dir, model, kept)
    report = evaluate(Classifier(model, config, path.name), heldout)
    activated, reason = _judge(report, previous_report, config, force)
    if activated:
        store.activate(base_dir, path.name)
    result = TrainResult(
        path.name, activated, reason, report, previous, previous_report, len(kept), dropped
    )
    store.write_metrics(base_dir, path.name, _metrics(result, len(rows)))
    return result


def ensure_model(base_dir: Path, config: TriageConfig | None = None) -> str:
    """The active version, training the default one (bundled data, no corrections) if none."""
    active = store.active_version(base_dir)
    if active is not None:
        return active
    return retrain(base_dir, config=config).version
