"""The `omnidesk` command (composition root #2): run the desk, migrate, read requests."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from omnidesk.cli_email import email_app
from omnidesk.cli_feedback import follow_ups_app, tag_command
from omnidesk.cli_report import report_command
from omnidesk.cli_users import users_app
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
app.add_typer(email_app, name="email")
app.add_typer(users_app, name="users")
app.add_typer(follow_ups_app, name="follow-ups")
requests_app.command("tag")(tag_command)
app.command("report", help="Reports from the event log (--json, --csv).")(report_command)
agents_app = typer.Typer(help="Agents and their availability.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
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
def prepare() -> None:
    """Migrate the database, train the default classifier if there is none, check the
    configuration (what `up` does before it starts anything)."""
    from omnidesk import runner

    settings = _settings()
    try:
        runner.prepare(settings)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def api(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes sharing the port (one host).")
    ] = 1,
) -> None:
    """Run the API server and webhooks only (production: several behind a proxy)."""
    from omnidesk import runner

    settings = _settings()
    try:
        runner.run_api(settings, host, port, workers)
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
    from omnidesk.db import read_session
    from omnidesk.services import queries

    settings = _settings()
    _require_schema(settings)
    with read_session(settings) as session:
        rows = queries.list_requests(session, status=status, channel=channel, limit=limit)
    if json_out:
        _print_json(rows)
        return
    table = Table("id", "status", "channel", "category", "priority", "lang", "team", "assignee")
    table.add_column("subject", no_wrap=True, overflow="ellipsis", max_width=48)
    keys = ("id", "status", "channel", "category", "priority", "language", "team", "assignee")
    for row in rows:
        table.add_row(*(str(row.get(k) or "") for k in keys), row.get("subject") or "")
    Console().print(table)


@requests_app.command("show")
def requests_show(request_id: int, json_out: JsonOpt = False) -> None:
    """Show one request with its customer, messages and event log."""
    from omnidesk.db import read_session
    from omnidesk.services import queries

    settings = _settings()
    _require_schema(settings)
    with read_session(settings) as session:
        record = queries.show_request(session, request_id)
    if record is None:
        raise _fail(f"no request #{request_id}", code=1)
    if json_out:
        _print_json(record)
        return
    _print_request(record)


def _change_status(request_id: int, status: str, actor: str, note: str | None) -> None:
    from omnidesk.config_file import load as load_config_file
    from omnidesk.db import unit_of_work
    from omnidesk.models import RequestStatus
    from omnidesk.services.status import set_status

    settings = _settings()
    _require_schema(settings)
    try:
        config = load_config_file(settings.config)
        with unit_of_work(settings) as session:
            tasks = set_status(session, request_id, RequestStatus(status), actor, config, note)
    except (LookupError, ValueError, ConfigError) as exc:
        raise _fail(str(exc).strip("'\""), code=1) from exc
    _enqueue_best_effort(settings, tasks)
    err.print(f"#{request_id}: {status}")


ActorOpt = Annotated[str, typer.Option(help="Who makes the change (kept in the event log).")]
NoteOpt = Annotated[str | None, typer.Option(help="A note for the event log.")]


@requests_app.command("resolve")
def requests_resolve(request_id: int, actor: ActorOpt = "cli", note: NoteOpt = None) -> None:
    """Mark a request resolved (a complaint's customer is told through their channel)."""
    _change_status(request_id, "resolved", actor, note)


@requests_app.command("reopen")
def requests_reopen(request_id: int, actor: ActorOpt = "cli", note: NoteOpt = None) -> None:
    """Reopen a resolved or closed request."""
    _change_status(request_id, "open", actor, note)


@requests_app.command("pending")
def requests_pending(request_id: int, actor: ActorOpt = "cli", note: NoteOpt = None) -> None:
    """Mark a request as waiting for the customer."""
    _change_status(request_id, "pending", actor, note)


def _enqueue_best_effort(settings: Settings, tasks: list[Any]) -> None:
    """Hand replies to the workers now if Redis answers; otherwise the sweeper sends them."""
    if not tasks:
        return
    from omnidesk.embedded import EmbeddedRedis

    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = embedded.url if embedded.answers() else None
    if url:
        try:
            from workers.broker import build_broker, install
            from workers.dispatch import dispatch_all

            install(build_broker(settings, url))
            dispatch_all(tasks)
            return
        except Exception as exc:  # noqa: BLE001 - the rows are stored; the sweeper sends them
            err.print(f"note: could not reach the queue ({exc}); the workers will send it")
            return
    err.print("note: no queue running; the workers send the notice when they start")


@requests_app.command("recategorise")
def requests_recategorise(
    request_id: int,
    category: str,
    actor: Annotated[str, typer.Option(help="Who corrects it (kept with the correction).")] = "cli",
) -> None:
    """Change a request's category; the change is kept to train the classifier."""
    from omnidesk.db import unit_of_work
    from omnidesk.services.corrections import recategorise
    from omnidesk.triage.config import load_config

    settings = _settings()
    _require_schema(settings)
    try:
        with unit_of_work(settings) as session:
            correction = recategorise(
                session, request_id, category, actor, load_config(), settings.triage_model_dir
            )
    except (LookupError, ValueError) as exc:
        raise _fail(str(exc).strip("'\""), code=1) from exc
    err.print(f"#{request_id}: {'recategorised as ' + category if correction else 'unchanged'}")


@agents_app.command("list")
def agents_list(json_out: JsonOpt = False) -> None:
    """Agents with their teams, skills, capacity, availability and open requests."""
    from omnidesk.db import read_session
    from omnidesk.services.queries import list_agents

    settings = _settings()
    _require_schema(settings)
    with read_session(settings) as session:
        rows = list_agents(session)
    if json_out:
        _print_json(rows)
        return
    table = Table("username", "name", "teams", "availability", "open", "capacity")
    for r in rows:
        table.add_row(
            r["username"],
            r["display_name"] or "",
            ",".join(r["teams"]),
            r["availability"],
            str(r["open_requests"]),
            str(r["capacity"]),
        )
    Console().print(table)


@agents_app.command("availability")
def agents_availability(
    username: str,
    state: Annotated[str, typer.Argument(help="online, away or offline")],
) -> None:
    """Set an agent's availability; going offline hands unanswered requests back to the team."""
    from omnidesk.db import unit_of_work
    from omnidesk.models import Availability
    from omnidesk.services.assign import set_availability

    settings = _settings()
    _require_schema(settings)
    try:
        availability = Availability(state)
        with unit_of_work(settings) as session:
            handed = set_availability(session, username, availability, actor="cli")
    except (LookupError, ValueError) as exc:
        raise _fail(str(exc).strip("'\""), code=1) from exc
    err.print(f"{username}: {availability}" + (f"; handed back {handed}" if handed else ""))


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
