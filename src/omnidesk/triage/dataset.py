"""Labelled messages: the bundled training, held-out and blind sets; reading JSON lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from omnidesk.errors import OmnideskError

DATA_DIR = Path(__file__).parent / "data"
TRAIN_PATH = DATA_DIR / "train.jsonl"
HELDOUT_PATH = DATA_DIR / "heldout.jsonl"
BLIND_PATH = DATA_DIR / "blind.jsonl"
"""Messages written apart from the other sets, in other phrasings: a check, never trained on."""


class DatasetError(OmnideskError):
    """A labelled file has a line that is not {"text": ..., "category": ...}."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message."""

    text: str
    category: str
    language: str | None = None
    channel: str | None = None


def parse_example(line: str, where: str) -> Example:
    """One JSON line with at least text and category; raise DatasetError saying where."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not JSON: {exc.msg}") from exc
    if not isinstance(row, dict):
        raise DatasetError(f"{where}: expected an object")
    text, category = row.get("text"), row.get("category")
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: 'text' must be a non-empty string")
    if not isinstance(category, str) or not category:
        raise DatasetError(f"{where}: 'category' must be a non-empty string")
    language, channel = row.get("language"), row.get("channel")
    return Example(
        text=text,
        category=category,
        language=language if isinstance(language, str) else None,
        channel=channel if isinstance(channel, str) else None,
    )


def read_examples(path: Path) -> list[Example]:
    """All examples of a JSON-lines file; blank lines are skipped."""
    examples = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                examples.append(parse_example(line, f"{path}:{number}"))
    return examples
