"""The `omnidesk` command (composition root #2): run the desk, migrate, read requests."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from omnidesk.errors import ConfigError
from omnidesk.settings import Settings, get_settings
from omnidesk.triage.cli import classifier_app, classify_command

app = typer.Typer(
    help="omnidesk: one request record from every customer channel.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
requests_app = typer.Typer(help="Read and work requests.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(requests_app, name="requests")
app.add_typer(classifier_app, name="classifier")
app.command(
    "classify", help='Classify JSON lines {"text": ...} from stdin; one JSON line out each.'
)(classify_command)

HostOpt = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", help="Port to listen on.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
err = Console(stderr=True)


def _settings() -> Settings:
    from omnidesk.logging import configure_logging

    settings = get_settings()
    configure_logging(settings)
    return settings


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(code)


@app.command()
def up(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Run everything in one process tree: migrations, API, workers, scheduler (Ctrl-C stops)."""
    from omnidesk import runner

    settings = _settings()
    try:
        raise typer.Exit(runner.run_up(settings, host, port))
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def api(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Run the API server and webhooks only (production: several behind a proxy)."""
    from omnidesk import runner

    settings = _settings()
    try:
        runner.run_api(settings, host, port)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def worker(
    processes: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    threads: Annotated[int | None, typer.Option(help="Threads per process.")] = None,
) -> None:
    """Run Dramatiq workers and the scheduler (production: on as many machines as you like)."""
    from omnidesk import runner

    settings = _settings()
    try:
        raise typer.Exit(runner.run_worker(settings, processes, threads))
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    count: Annotated[int, typer.Option(help="Customer messages to send (0: keep going).")] = 0,
    interval: Annotated[float, typer.Option(help="Seconds between messages.")] = 2.0,
) -> None:
    """`up` plus fake providers and a stream of signed customer messages in Chinese and English."""
    from omnidesk import runner

    settings = _settings()
    raise typer.Exit(runner.run_demo(settings, host, port, count, interval))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Bring the database schema up to date (Alembic)."""
    from omnidesk.migrate import upgrade

    settings = _settings()
    upgrade(settings, revision)
    err.print(f"database at {revision}: {_safe_url(settings)}")


@requests_app.command("list")
def requests_list(
    json_out: JsonOpt = False,
    status: Annotated[str | None, typer.Option(help="Only requests with this status.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only requests from this channel.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """List requests, newest first."""
    from omnidesk.db import unit_of_work
    from omnidesk.services import queries

    settings = _settings()
    _require_schema(settings)
    with unit_of_work(settings) as session:
        rows = queries.list_requests(session, status=status, channel=channel, limit=limit)
    if json_out:
        _print_json(rows)
        return
    table = Table("id", "status", "channel", "category", "priority", "lang", "team", "subject")
    for row in rows:
        table.add_row(
            *(
                str(row.get(k) or "")
                for k in (
                    "id",
                    "status",
                    "channel",
                    "category",
                    "priority",
                    "language",
                    "team",
                    "subject",
                )
            )
        )
    Console().print(table)


@requests_app.command("show")
def requests_show(request_id: int, json_out: JsonOpt = False) -> None:
    """Show one request with its customer, messages and event log."""
    from omnidesk.db import unit_of_work
    from omnidesk.services import queries

    settings = _settings()
    _require_schema(settings)
    with unit_of_work(settings) as session:
        record = queries.show_request(session, request_id)
    if record is None:
        raise _fail(f"no request #{request_id}", code=1)
    if json_out:
        _print_json(record)
        return
    _print_request(record)


def _print_request(record: dict[str, Any]) -> None:
    console = Console()
    console.print(f"[bold]#{record['id']}[/bold] {record.get('subject') or ''}", highlight=False)
    for key in (
        "status",
        "channel",
        "connector",
        "category",
        "priority",
        "language",
        "team",
        "assignee",
    ):
        console.print(f"  {key}: {record.get(key)}", highlight=False, markup=False)
    console.print("messages:")
    for m in record["messages"]:
        arrow = "→" if m["direction"] == "inbound" else "←"
        console.print(f"  {arrow} [{m['status']}] {m['text']}", highlight=False, markup=False)
    console.print("events:")
    for e in record["events"]:
        console.print(
            f"  {e['at']} {e['kind']} {json.dumps(e['data'], ensure_ascii=False)}",
            highlight=False,
            markup=False,
        )


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _require_schema(settings: Settings) -> None:
    from sqlalchemy import inspect

    from omnidesk.db import get_engine

    if not inspect(get_engine(settings)).has_table("request"):
        raise _fail("the database has no schema yet: run `omnidesk db upgrade` (or `omnidesk up`)")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
