"""/api/v1/reports: the desk's figures for a period and filter, as JSON or CSV (supervisors).

Query parameters: `since` and `until` are dates in the desk's time zone (`until` inclusive),
or `days=N` for the last N days up to the desk's today (what the dashboard asks: a browser in
another zone, or past the desk's midnight, must not pick the days); `channel`, `category`,
`team`, `agent`, `language` narrow the requests; see
`omnidesk.services.reports` for what each figure means.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from omnidesk.api.deps import SessionDep, StaffAgent, desk_of
from omnidesk.services import reports
from omnidesk.services.hours import BusinessHours

router = APIRouter(tags=["reports"])


def desk_hours(request: Request) -> BusinessHours:
    """The desk's default business hours (the business clock of every report)."""
    return desk_of(request).config.hours["default"]


HoursDep = Annotated[BusinessHours, Depends(desk_hours)]


def report_filter(
    hours: HoursDep,
    since: date | None = None,
    until: date | None = None,
    days: Annotated[int | None, Query(ge=1, le=3660)] = None,
    channel: str | None = None,
    category: str | None = None,
    team: str | None = None,
    agent: str | None = None,
    language: str | None = None,
) -> reports.ReportFilter:
    """The filter from the query string: dates in the desk's zone, `until` inclusive."""
    dimensions = {"channel": channel, "category": category, "team": team}
    dimensions |= {"agent": agent, "language": language}
    if days is not None:
        if since is not None or until is not None:
            raise HTTPException(422, "give either days or since/until, not both")
        today = hours.today(datetime.now(UTC))
        return reports.ReportFilter.last_days(days, today, hours.time_zone, **dimensions)
    return reports.ReportFilter.for_days(since, until, hours.time_zone, **dimensions)


FilterDep = Annotated[reports.ReportFilter, Depends(report_filter)]


@router.get("/reports")
def report(me: StaffAgent, session: SessionDep, flt: FilterDep, hours: HoursDep) -> dict[str, Any]:
    """Volume, response and resolution times, SLA, CSAT, reopen rate, root causes, words."""
    return reports.compute(session, flt, hours).to_dict()


@router.get("/reports.csv", response_class=Response)
def report_csv(me: StaffAgent, session: SessionDep, flt: FilterDep, hours: HoursDep) -> Response:
    """The same report as a `metric,value` CSV attachment."""
    body = reports.compute(session, flt, hours).to_csv()
    first, last = flt.first_day(hours.time_zone), flt.last_day(hours.time_zone)
    name = f"omnidesk-report-{first or 'all'}-{last or 'all'}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
