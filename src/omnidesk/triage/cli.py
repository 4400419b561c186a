"""Command line: `omnidesk classify` (classify_stream) and `omnidesk classifier …`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from omnidesk.errors import OmnideskError
from omnidesk.triage import store
from omnidesk.triage.classify import Classifier, default_model_dir
from omnidesk.triage.config import load_config
from omnidesk.triage.dataset import read_examples
from omnidesk.triage.evaluate import evaluate, format_report

ModelDir = Annotated[
    Path | None,
    typer.Option(
        "--model-dir",
        help="Model versions directory.",
        show_default="$OMNIDESK_DATA_DIR/models/triage",
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="Triage configuration.", show_default="config/triage.toml"),
]

classifier_app = typer.Typer(
    help="Train, evaluate, list and roll back the triage model.", no_args_is_help=True
)


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


def _classify_line(classifier: Classifier, line: str) -> dict[str, Any]:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    text, subject, channel = row.get("text"), row.get("subject"), row.get("channel")
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    if subject is not None and not isinstance(subject, str):
        raise ValueError("'subject' must be a string")
    if channel is not None and not isinstance(channel, str):
        raise ValueError("'channel' must be a string")
    result = classifier.classify(text, subject, channel).to_dict()
    return {"id": row["id"], **result} if "id" in row else result


def classify_stream(
    stdin: TextIO,
    stdout: TextIO,
    classifier: Classifier | None = None,
    *,
    model_dir: Path | None = None,
) -> int:
    """JSON lines {"text", "subject"?, "channel"?, "id"?} in; one JSON line out per line in.

    A line that cannot be classified gives {"line": n, "error": ...} in its place and the
    stream goes on. Returns how many lines failed.
    """
    classifier = classifier or Classifier.load(model_dir)
    failed = 0
    for number, line in enumerate(stdin, start=1):
        try:
            out = _classify_line(classifier, line)
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            failed += 1
            message = f"not JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            out = {"line": number, "error": message}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return failed


def classify_command(model_dir: ModelDir = None) -> None:
    """Classify JSON lines from stdin; exit 1 if any line failed."""
    try:
        failed = classify_stream(sys.stdin, sys.stdout, model_dir=model_dir)
    except OmnideskError as exc:
        raise _fail(exc) from exc
    if failed:
        raise typer.Exit(code=1)


def _read_corrections(path: Path) -> list[tuple[str, str]]:
    return [(e.text, e.category) for e in read_examples(path)]


@classifier_app.command("train")
def train_command(
    model_dir: ModelDir = None,
    corrections: Annotated[
        Path | None, typer.Option(help="JSON lines {text, category} set by agents.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Activate even if not better.")] = False,
    config: ConfigFile = None,
    db: Annotated[
        bool, typer.Option("--db/--no-db", help="Include the agents' corrections in the desk.")
    ] = True,
) -> None:
    """Train a new version; it becomes active only if its held-out macro-F1 is not worse."""
    from omnidesk.triage.train import retrain  # numpy and scikit-learn: only to train

    try:
        fixes = _read_corrections(corrections) if corrections else []
        directory = model_dir or default_model_dir()
        result = (
            _train_with_desk_corrections(directory, load_config(config), force, fixes)
            if db and _desk_has_schema()
            else retrain(directory, fixes, config=load_config(config), force=force)
        )
    except (OmnideskError, ValueError) as exc:
        raise _fail(exc) from exc
    state = "activated" if result.activated else "kept inactive"
    typer.echo(f"{result.version} {state}: {result.reason}")
    typer.echo(format_report(result.report))


def _desk_has_schema() -> bool:
    from sqlalchemy import inspect

    from omnidesk.db import get_engine
    from omnidesk.settings import get_settings

    return inspect(get_engine(get_settings())).has_table("correction")


def _train_with_desk_corrections(
    directory: Path, config: Any, force: bool, fixes: list[tuple[str, str]]
) -> Any:
    from omnidesk.services.corrections import retrain_with_corrections
    from omnidesk.settings import get_settings

    return retrain_with_corrections(get_settings(), directory, config, force=force, extra=fixes)


@classifier_app.command("evaluate")
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="JSON lines with text and category.")],
    model_dir: ModelDir = None,
    version: Annotated[str | None, typer.Option(help="Version to evaluate.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigFile = None,
) -> None:
    """Per-category precision, recall, F1, macro-F1 and the confusion matrix."""
    try:
        classifier = Classifier.load(model_dir, load_config(config), version=version)
        report = evaluate(classifier, read_examples(file))
    except (OmnideskError, OSError) as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"model {classifier.version} on {file}\n")
        typer.echo(format_report(report))


@classifier_app.command("rollback")
def rollback_command(
    model_dir: ModelDir = None,
    to: Annotated[str | None, typer.Option(help="Version to activate.")] = None,
) -> None:
    """Re-activate the previously active version (or --to VERSION)."""
    try:
        version = store.rollback(model_dir or default_model_dir(), to)
    except OmnideskError as exc:
        raise _fail(exc) from exc
    typer.echo(f"active: {version}")


@classifier_app.command("list")
def list_command(model_dir: ModelDir = None) -> None:
    """Stored versions with their held-out scores; * marks the active one."""
    directory = model_dir or default_model_dir()
    infos = store.list_versions(directory)
    if not infos:
        typer.echo(f"no model versions in {directory}")
        return
    for info in infos:
        heldout = info.metrics.get("heldout", {})
        by_language = heldout.get("by_language", {})
        languages = "  ".join(f"{k} {v['macro_f1']:.3f}" for k, v in sorted(by_language.items()))
        typer.echo(
            f"{'*' if info.active else ' '} {info.version}  {info.metrics.get('created_at', '?')}"
            f"  macro-F1 {heldout.get('macro_f1', float('nan')):.3f}  {languages}"
            f"  corrections {info.metrics.get('corrections', 0)}"
        )
