"""`omnidesk report`: the desk's figures for a period, as a table, JSON or a CSV file.

Mounted in cli.py with `app.command("report")(report_command)`. Dates are days in the desk's
time zone; `--until` is inclusive; `--days N` is the last N days up to the desk's today. See
`omnidesk.services.reports` for the definitions.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table


def _date_option(help_text: str) -> Any:
    return typer.Option(
        parser=date.fromisoformat, metavar="YYYY-MM-DD", help=help_text, show_default=False
    )


def _filter_option(help_text: str) -> Any:
    return typer.Option(help=help_text, show_default=False)


def report_command(
    since: Annotated[date | None, _date_option("First day (00:00 in the desk's zone).")] = None,
    until: Annotated[date | None, _date_option("Last day, included.")] = None,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="The last N days, up to today in the desk's zone.", show_default=False
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    channel: Annotated[str | None, _filter_option("Only requests from this channel.")] = None,
    category: Annotated[str | None, _filter_option("Only requests in this category.")] = None,
    team: Annotated[str | None, _filter_option("Only this team's requests.")] = None,
    agent: Annotated[str | None, _filter_option("Only requests assigned to this agent.")] = None,
    language: Annotated[str | None, _filter_option("Only requests in this language.")] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Write the report as CSV.")
    ] = None,
) -> None:
    """Report on the requests opened in a period: volume, times, SLA, CSAT, reopens, causes."""
    from omnidesk.cli import _fail, _require_schema, _settings
    from omnidesk.config_file import load
    from omnidesk.db import read_session
    from omnidesk.errors import ConfigError
    from omnidesk.services.reports import ReportFilter, compute

    settings = _settings()
    _require_schema(settings)
    try:
        hours = load(settings.config).hours["default"]
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    dimensions = {"channel": channel, "category": category, "team": team}
    dimensions |= {"agent": agent, "language": language}
    if days is not None and (since is not None or until is not None):
        raise _fail("give either --days or --since/--until, not both")
    if days is not None:
        today = hours.today(datetime.now(UTC))
        flt = ReportFilter.last_days(days, today, hours.time_zone, **dimensions)
    else:
        flt = ReportFilter.for_days(since, until, hours.time_zone, **dimensions)
    with read_session(settings) as session:
        report = compute(session, flt, hours)
    if csv is not None:
        csv.write_text(report.to_csv(), encoding="utf-8")
        Console(stderr=True).print(f"report written to {csv}", highlight=False, markup=False)
    elif json_out:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_report(report.to_dict(), Console())


def print_report(data: dict[str, Any], console: Console) -> None:
    """The report as a few rich tables, in the `to_dict()` shape's order."""
    period = data["period"]
    chosen = {k: v for k, v in data["filters"].items() if v is not None}
    first, last = period.get("first_day"), period.get("last_day")
    console.print(
        f"[bold]Requests opened from {first or 'the start'} to {last or 'now'}[/bold] "
        f"(days in {period['time_zone']}, today is {period['today']}) {chosen or ''}",
        highlight=False,
    )
    console.print(_pairs("Volume", _volume_rows(data["volume"])))
    console.print(_times(data["first_response"], data["resolution"]))
    sla = data["sla"]
    console.print(_pairs("SLA", [(f"{k} {m}", v) for k in sla for m, v in sla[k].items()]))
    csat_rows = [*data["csat"].items(), ("reopen_rate", data["reopen_rate"])]
    console.print(_pairs("Satisfaction", csat_rows))
    console.print(_pairs("Top root causes", [tuple(r.values()) for r in data["root_causes"]]))
    console.print(
        _pairs("Words in low ratings", [tuple(r.values()) for r in data["low_rated_words"]])
    )


def _volume_rows(volume: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("total", volume["total"])]
    for key in ("by_channel", "by_category", "by_day"):
        rows += [(f"{key[3:]} {name}", count) for name, count in volume[key].items()]
    return rows


def _times(first_response: dict[str, Any], resolution: dict[str, Any]) -> Table:
    table = Table("minutes", "count", "median", "p90", "business median", "business p90")
    table.title = "Times from opening"
    for name, row in (("first response", first_response), ("resolution", resolution)):
        table.add_row(name, *(_cell(v) for v in row.values()))
    return table


def _pairs(title: str, rows: list[tuple[Any, ...]]) -> Table:
    table = Table(show_header=False, title=title, title_justify="left")
    for name, value in rows:
        table.add_row(str(name), _cell(value))
    return table


def _cell(value: Any) -> str:
    return "–" if value is None else str(value)
