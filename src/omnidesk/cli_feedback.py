"""`omnidesk requests tag` and `omnidesk follow-ups list|done`: the feedback record from a shell.

Mounted in cli.py with `requests_app.command("tag")(tag_command)` and
`app.add_typer(follow_ups_app, name="follow-ups")`.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

follow_ups_app = typer.Typer(
    help="Follow-up tasks after low ratings and complaints.", no_args_is_help=True
)
err = Console(stderr=True)

ActorOpt = Annotated[str, typer.Option(help="Who does it (kept in the event log).")]


def tag_command(
    request_id: int,
    resolution: Annotated[str, typer.Option(help="How it was resolved (a key of [feedback]).")],
    root_cause: Annotated[str, typer.Option(help="Why it happened (a key of [feedback]).")],
    note: Annotated[str | None, typer.Option(help="A free note.")] = None,
    actor: ActorOpt = "cli",
) -> None:
    """Tag a resolved request with its resolution and root cause (the feedback record)."""
    from omnidesk.cli import _fail, _require_schema, _settings
    from omnidesk.config_file import load
    from omnidesk.db import unit_of_work
    from omnidesk.errors import ConfigError
    from omnidesk.services.feedback import tag_request

    settings = _settings()
    _require_schema(settings)
    try:
        config = load(settings.config)
        with unit_of_work(settings) as session:
            event = tag_request(
                session,
                request_id,
                resolution=resolution,
                root_cause=root_cause,
                note=note,
                actor=actor,
                config=config,
            )
    except (LookupError, ValueError, ConfigError) as exc:
        raise _fail(str(exc).strip("'\""), code=1) from exc
    err.print(f"#{request_id}: " + ("tagged" if event else "already tagged so"))


@follow_ups_app.callback()
def follow_ups() -> None:
    """Follow-up tasks: `omnidesk follow-ups list`, `omnidesk follow-ups done ID`."""


@follow_ups_app.command("list")
def follow_ups_list(
    json_out: Annotated[
        bool, typer.Option("--json", help="Print JSON with the conversation.")
    ] = False,
    all_: Annotated[bool, typer.Option("--all", help="Done ones too.")] = False,
) -> None:
    """Open follow-ups, soonest due first (with --json: each with its request's conversation)."""
    from omnidesk.cli import _require_schema, _settings
    from omnidesk.db import unit_of_work
    from omnidesk.services.follow_ups import list_follow_ups

    settings = _settings()
    _require_schema(settings)
    with unit_of_work(settings) as session:
        rows = list_follow_ups(session, status=None if all_ else "open", with_conversation=json_out)
    if json_out:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("id", "request", "kind", "assignee", "team", "due", "status")
    table.add_column("reason", overflow="fold", max_width=60)
    for r in rows:
        cells = (r["id"], r["request_id"], r["kind"], r["assignee"], r["team"], r["due_at"][:16])
        table.add_row(*(str(c or "") for c in cells), r["status"], r["reason"])
    Console().print(table)


@follow_ups_app.command("done")
def follow_ups_done(
    follow_up_id: int,
    actor: ActorOpt = "cli",
    note: Annotated[str | None, typer.Option(help="What was done.")] = None,
) -> None:
    """Mark a follow-up done."""
    from omnidesk.cli import _fail, _require_schema, _settings
    from omnidesk.db import unit_of_work
    from omnidesk.services.follow_ups import mark_done

    settings = _settings()
    _require_schema(settings)
    try:
        with unit_of_work(settings) as session:
            mark_done(session, follow_up_id, actor, note)
    except LookupError as exc:
        raise _fail(str(exc).strip("'\""), code=1) from exc
    err.print(f"follow-up #{follow_up_id}: done")
