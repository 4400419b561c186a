"""Model versions on disk: `<dir>/v0001/`…, an `active` pointer and the activation history.

Layout of a model directory:

    active          the active version's name (replaced atomically)
    history.json    versions in the order they were activated; rollback pops the last
    v0001/          model.npz, vocabulary.json, metrics.json, corrections.jsonl
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidesk.errors import ModelError

if TYPE_CHECKING:
    from omnidesk.triage.model import Model

ACTIVE = "active"
HISTORY = "history.json"
METRICS = "metrics.json"
_VERSION = re.compile(r"v(\d{4,})")


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One stored version and what was measured when it was trained."""

    version: str
    active: bool
    metrics: dict[str, Any]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)


def versions(directory: Path) -> list[str]:
    """Names of the stored versions, oldest first."""
    if not directory.is_dir():
        return []
    found = [p.name for p in directory.iterdir() if p.is_dir() and _VERSION.fullmatch(p.name)]
    return sorted(found, key=lambda name: int(name[1:]))


def new_version_dir(directory: Path) -> Path:
    """Create and return the next version's directory (safe against concurrent trainers)."""
    directory.mkdir(parents=True, exist_ok=True)
    number = int(versions(directory)[-1][1:]) + 1 if versions(directory) else 1
    while True:
        path = directory / f"v{number:04d}"
        try:
            path.mkdir()
        except FileExistsError:
            number += 1
            continue
        return path


def active_version(directory: Path) -> str | None:
    """The active version's name, or None if nothing was activated yet."""
    try:
        name = (directory / ACTIVE).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def history(directory: Path) -> list[str]:
    """Activated versions, oldest first (rolled-back ones removed)."""
    try:
        data = json.loads((directory / HISTORY).read_text("utf-8"))
    except FileNotFoundError:
        return []
    return [str(v) for v in data]


def activate(directory: Path, version: str) -> None:
    """Make `version` the active one and record it in the history."""
    if not (directory / version).is_dir():
        raise ModelError(f"{directory}: no model version {version!r}")
    past = [v for v in history(directory) if v != version] + [version]
    _write_atomic(directory / HISTORY, json.dumps(past))
    _write_atomic(directory / ACTIVE, version + "\n")


def rollback(directory: Path, to: str | None = None) -> str:
    """Re-activate the version active before the current one (or `to`); return its name."""
    past = history(directory)
    current = active_version(directory)
    if to is None:
        earlier = [v for v in past if v != current]
        if not earlier:
            raise ModelError(f"{directory}: no earlier model version to roll back to")
        to = earlier[-1]
    if not (directory / to).is_dir():
        raise ModelError(f"{directory}: no model version {to!r}")
    remaining = [v for v in past if v not in (current, to)] + [to]
    _write_atomic(directory / HISTORY, json.dumps(remaining))
    _write_atomic(directory / ACTIVE, to + "\n")
    return to


def read_metrics(directory: Path, version: str) -> dict[str, Any]:
    """The metrics stored with a version ({} if none)."""
    try:
        data: dict[str, Any] = json.loads((directory / version / METRICS).read_text("utf-8"))
    except FileNotFoundError:
        return {}
    return data


def write_metrics(directory: Path, version: str, metrics: dict[str, Any]) -> None:
    """Store a version's metrics."""
    _write_atomic(directory / version / METRICS, json.dumps(metrics, indent=2, ensure_ascii=False))


def list_versions(directory: Path) -> list[VersionInfo]:
    """Every stored version with its metrics, oldest first."""
    current = active_version(directory)
    return [VersionInfo(v, v == current, read_metrics(directory, v)) for v in versions(directory)]


def load_version(directory: Path, version: str | None = None) -> tuple[str, Model]:
    """Load `version`, or the active one; raise ModelError if there is none."""
    chosen = version or active_version(directory)
    if chosen is None:
        raise ModelError(f"{directory}: no active triage model; run `omnidesk classifier train`")
    from omnidesk.triage.model import load_model  # numpy: only where a model is loaded

    return chosen, load_model(directory / chosen)
