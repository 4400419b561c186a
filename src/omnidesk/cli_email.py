"""`omnidesk email …`: mailbox tools. `import` backfills a mailbox's older mail into the desk."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from omnidesk.errors import CannotConnect, ConfigError, InvalidAuth

email_app = typer.Typer(help="Email mailboxes.", no_args_is_help=True)
err = Console(stderr=True)


@email_app.callback()
def email() -> None:
    """Email mailboxes: `omnidesk email import CONNECTOR --since DATE`."""


@email_app.command("import")
def email_import(
    connector: Annotated[str, typer.Argument(help="Name of an email connector.")],
    since: Annotated[
        date,
        typer.Option(
            parser=date.fromisoformat, metavar="YYYY-MM-DD", help="Import mail received since."
        ),
    ],
) -> None:
    """Import a mailbox's mail since DATE (safe to run twice: stored mail is skipped).

    The mailbox is only read: nothing is flagged or moved, and the poller's place is kept.
    """
    from omnidesk import runner
    from omnidesk.cli import _settings
    from omnidesk.desk import Desk

    settings = _settings()
    try:
        with runner.redis_for(settings) as url:
            settings = settings.model_copy(update={"redis_url": url})
            desk = Desk.load(settings)
            found = _email_connector(desk, connector)
            imported = _backfill(desk, found, url, since)
    except (ConfigError, CannotConnect, InvalidAuth) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    err.print(f"{imported} mails imported from {connector} since {since.isoformat()}")


def _email_connector(desk: Any, name: str) -> Any:
    connector = desk.connector(name)
    if connector is None:
        raise ConfigError(f"no connector named {name!r} in {desk.settings.config}")
    if not callable(getattr(connector, "backfill", None)):
        raise ConfigError(f"connector {name!r} is a {connector.channel} connector, not email")
    return connector


def _backfill(desk: Any, connector: Any, redis_url: str, since: date) -> int:
    from omnidesk.services.intake import DeskIntake
    from omnidesk.services.mail import DeskMailboxBook
    from workers.broker import build_broker, install
    from workers.dispatch import DramatiqDispatcher

    install(build_broker(desk.settings, redis_url))
    intake = DeskIntake(desk, DramatiqDispatcher(), background=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=err) as progress:
        task = progress.add_task(f"importing {connector.config.name}", total=None)

        def observe(event: str, value: int) -> None:
            if event == "found":
                progress.update(task, total=value)
            elif event == "stored":
                progress.advance(task)

        count: int = connector.backfill(intake, DeskMailboxBook(desk), since, observe)
    return count
