"""Reports from the event log: volume, response and resolution times, SLA, CSAT, reopens, causes.

Definitions (the tests compute their figures by hand with exactly these):

- **In the period**: a request is in a report when it was *opened* in the period, i.e.
  ``since <= request.created_at < until`` (written with its ``request_opened`` event). All that
  happened to it afterwards counts, whenever it happened, up to the moment the report runs.
  A DATE bound (`ReportFilter.for_days`) is that day's 00:00 in the desk's time zone; ``until``
  includes its day (the bound is the next day's 00:00, exclusive).
- **Dimensions** (channel, category, team, agent = assignee, language) are the request row's
  current values, changed in the same transaction as their events (``recategorised``,
  ``routed``, ``assigned``): a recategorised request counts in its new category.
- **First response**: the first ``replied`` event with ``data.kind == "agent_reply"``;
  acknowledgements and automatic answers are not a human response.
- **Resolution**: the last ``resolved`` event, unless a ``reopened`` event follows it (a request
  reopened and not resolved again is unresolved); ``closed`` alone is not a resolution.
- Times are minutes from opening, on the wall clock and on the business clock of ``hours``
  (nights, weekends and holidays do not count).
- **Percentiles**: linear interpolation between closest ranks (PostgreSQL ``percentile_cont``,
  numpy's default): over sorted ``x[0..n-1]``, ``h = (n - 1) p`` and
  ``P = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])``.
- **SLA**, per target, among requests with that due time: *breached* when an ``sla_breached``
  event names the target or it was met after its due time; *met* when met by its due time;
  otherwise still running and not counted. attainment = met / (met + breached).
- **CSAT**: ``surveys_sent`` counts ``survey_sent`` events; a response is a survey's latest
  ``rated`` event; ``csat`` is the share of responses scoring 4 or 5.
- **reopen_rate** = requests reopened at least once / requests resolved at least once.
- **root_causes**: each request's latest ``feedback_tagged``, counted by root cause (top 10).
- **low_rated_words**: in the comments of responses scoring 1-2, English words (lower case, stop
  words dropped) and Chinese character bigrams, each counted once per comment; those in at
  least two comments, most frequent first (top 20).
- A rate or average over nothing is ``None``; minutes are rounded to 2 places, rates to 4.

PostgreSQL computes it all in SQL: ``percentile_cont``, and business time from a running-total
calendar passed as arrays (``width_bucket`` finds the day). SQLite streams one row of numbers
per request into Python, which applies the same calendar and percentile definition.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from operator import add
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, Float, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from omnidesk.models import Event, Request
from omnidesk.services.business_calendar import BusinessCalendar, epoch
from omnidesk.services.hours import BusinessHours
from omnidesk.services.report_words import low_rated_words, top

DIMENSIONS = ("channel", "category", "team", "agent", "language")
TOP_ROOT_CAUSES = 10
QUANTILES = (0.5, 0.9)
UNKNOWN = "unknown"
MAX_FOLLOW_UP = timedelta(days=366)  # business time is counted up to here
_R = Request.__table__.c  # type: ignore[attr-defined]
_E = Event.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ReportFilter:
    """Which requests a report covers: opened in [since, until) and matching every dimension."""

    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    category: str | None = None
    team: str | None = None
    agent: str | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        """Refuse naive bounds: a period is two instants."""
        for bound in (self.since, self.until):
            if bound is not None and bound.utcoffset() is None:
                raise ValueError(f"{bound!r} has no time zone: report bounds must be aware")

    @classmethod
    def for_days(
        cls, since: date | None, until: date | None, time_zone: str, **dimensions: str | None
    ) -> ReportFilter:
        """From days in the desk's zone: `since` at 00:00 to the end of `until` (inclusive)."""
        zone = ZoneInfo(time_zone)
        start = datetime.combine(since, time(0), tzinfo=zone) if since else None
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone) if until else None
        return cls(since=start, until=end, **dimensions)

    @classmethod
    def last_days(
        cls, days: int, today: date, time_zone: str, **dimensions: str | None
    ) -> ReportFilter:
        """The `days` days that end with the desk's `today` (included): "the last 30 days"."""
        if days < 1:
            raise ValueError(f"a period has at least one day, not {days}")
        first = today - timedelta(days=days - 1)
        return cls.for_days(first, today, time_zone, **dimensions)

    def first_day(self, time_zone: str) -> date | None:
        """The desk's date of the period's first instant (None when open-ended)."""
        return self.since.astimezone(ZoneInfo(time_zone)).date() if self.since else None

    def last_day(self, time_zone: str) -> date | None:
        """The desk's date of the period's last instant (`until` is exclusive)."""
        if self.until is None:
            return None
        return (self.until.astimezone(ZoneInfo(time_zone)) - timedelta(microseconds=1)).date()

    def days(self, time_zone: str) -> list[date]:
        """The desk's dates the period covers, first to last (empty when open-ended)."""
        first, last = self.first_day(time_zone), self.last_day(time_zone)
        if first is None or last is None:
            return []
        return [first + timedelta(days=k) for k in range((last - first).days + 1)]

    def dimensions(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in DIMENSIONS}


@dataclass(frozen=True)
class Durations:
    """Minutes from opening: count, median and 90th percentile, wall and business clock."""

    count: int = 0
    median_minutes: float | None = None
    p90_minutes: float | None = None
    business_median_minutes: float | None = None
    business_p90_minutes: float | None = None

    @classmethod
    def of(
        cls, count: int, wall: Sequence[float | None], business: Sequence[float | None]
    ) -> Durations:
        """From the [median, p90] of wall and of business minutes (None when nothing)."""
        return cls(count, *(None if v is None else round(float(v), 2) for v in (*wall, *business)))


@dataclass(frozen=True)
class SlaTarget:
    met: int = 0
    breached: int = 0
    attainment: float | None = None


@dataclass(frozen=True)
class Csat:
    surveys_sent: int = 0
    responses: int = 0
    response_rate: float | None = None
    score_avg: float | None = None
    csat: float | None = None


@dataclass(frozen=True)
class Volume:
    total: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_day: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """A report's figures; `to_dict()` has the stable keys the API, CLI and UI share."""

    period: dict[str, Any]
    filters: dict[str, str | None]
    volume: Volume
    first_response: Durations
    resolution: Durations
    sla: dict[str, SlaTarget]
    csat: Csat
    reopen_rate: float | None
    root_causes: list[dict[str, Any]]
    low_rated_words: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_csv(self) -> str:
        """A flat `metric,value` table: dotted paths (`sla.first_response.met`); list items are
        `root_causes.<root cause>` and `low_rated_words.<word>` with their counts; None is empty."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("metric", "value"))
        figures = self.to_dict()
        figures["period"] = {k: v for k, v in self.period.items() if k != "days"}
        writer.writerows(_flatten(figures))
        return out.getvalue()


def compute(session: Session, flt: ReportFilter, hours: BusinessHours) -> Report:
    """The report on the requests `flt` selects (definitions in the module docstring)."""
    calendar = _calendar(session, flt, hours)
    in_sql = session.get_bind().dialect.name == "postgresql"
    tally = (_tally_in_sql if in_sql else _tally_in_python)(session, flt, calendar)
    scores, comments = _ratings(session, flt)
    return Report(
        period=_period(flt, hours),
        filters=flt.dimensions(),
        volume=Volume(
            tally.total,
            _count_by(session, flt, _R.channel),
            _count_by(session, flt, _R.category),
            {calendar.days[i].isoformat(): n for i, n in sorted(tally.per_day.items())},
        ),
        first_response=tally.first_response,
        resolution=tally.resolution,
        sla={
            "first_response": _sla(tally.fr_met, tally.fr_breached),
            "resolution": _sla(tally.res_met, tally.res_breached),
        },
        csat=_csat(session, flt, scores),
        reopen_rate=_ratio(tally.reopened, tally.ever_resolved),
        root_causes=_root_causes(session, flt),
        low_rated_words=low_rated_words(comments.elements()),
    )


def _period(flt: ReportFilter, hours: BusinessHours) -> dict[str, Any]:
    """The period in instants and in the desk's days, with the desk's today, so that no page or
    script works out "today" or a day's bounds from its own clock and zone."""
    first, last = flt.first_day(hours.time_zone), flt.last_day(hours.time_zone)
    return {
        "since": flt.since.isoformat() if flt.since else None,
        "until": flt.until.isoformat() if flt.until else None,
        "time_zone": hours.time_zone,
        "today": hours.today(datetime.now(UTC)).isoformat(),
        "first_day": first.isoformat() if first else None,
        "last_day": last.isoformat() if last else None,
        "days": [d.isoformat() for d in flt.days(hours.time_zone)],
    }


# -- the business clock ----------------------------------------------------------------------


def _calendar(session: Session, flt: ReportFilter, hours: BusinessHours) -> BusinessCalendar:
    """Days from the report's first opening to the log's last event, at most a year past the
    report's last opening (a stray far-future timestamp must not build a century of days)."""
    stmt = select(func.min(_R.created_at), func.max(_R.created_at)).where(*_conditions(flt))
    first, last = session.execute(stmt).one()
    if first is None:
        first = last = datetime.now(UTC)
    last_event = session.execute(select(func.max(_E.at))).scalar() or last
    last = min(max(last, last_event), last + MAX_FOLLOW_UP)
    return BusinessCalendar.build(hours, *(m.astimezone(hours.zone).date() for m in (first, last)))


# -- one row of facts per request ---------------------------------------------------------------


def _conditions(flt: ReportFilter) -> list[ColumnElement[bool]]:
    columns = {"channel": _R.channel, "category": _R.category, "team": _R.team}
    columns |= {"agent": _R.assignee, "language": _R.language}
    found = [columns[k] == v for k, v in flt.dimensions().items() if v is not None]
    found += [_R.created_at >= flt.since] if flt.since else []
    return found + ([_R.created_at < flt.until] if flt.until else [])


def _facts(flt: ReportFilter) -> Any:
    """Per request in the report: epoch seconds of opening, first response and resolution, and
    0/1 flags (SLA met or breached per target, reopened, ever resolved)."""
    kind = _E.kind

    def when(wanted: str, key: str, value: str, then: Any) -> Any:
        # Nested CASE: the JSON is read only for events of the wanted kind (SQL's AND may not
        # short-circuit, and PostgreSQL parses a json column at every ->>).
        return case((kind == wanted, case((_E.data[key].as_string() == value, then))))

    breached = {
        target: func.coalesce(func.max(when("sla_breached", "target", target, 1)), 0)
        for target in ("first_response", "resolution")
    }
    g = (
        select(
            _R.created_at,
            _R.first_response_due.label("fr_due"),
            _R.resolution_due.label("res_due"),
            func.min(when("replied", "kind", "agent_reply", _E.at)).label("responded"),
            func.max(case((kind == "resolved", _E.at))).label("last_resolved"),
            func.max(case((kind == "reopened", _E.at))).label("last_reopened"),
            breached["first_response"].label("fr_flag"),
            breached["resolution"].label("res_flag"),
        )
        .select_from(
            Request.__table__.outerjoin(  # type: ignore[attr-defined]
                Event.__table__,  # type: ignore[attr-defined]
                and_(
                    _E.request_id == _R.id,
                    kind.in_(("replied", "resolved", "reopened", "sla_breached")),
                ),
            )
        )
        .where(*_conditions(flt))
        .group_by(_R.id)
        .subquery("g")
    ).c
    resolved = case(
        (or_(g.last_reopened.is_(None), g.last_resolved > g.last_reopened), g.last_resolved)
    )
    return select(
        epoch(g.created_at).label("opened"),
        epoch(g.responded).label("responded"),
        epoch(resolved).label("resolved"),
        *_sla_flags("fr", g.fr_due, g.responded, g.fr_flag),
        *_sla_flags("res", g.res_due, resolved, g.res_flag),
        case((g.last_reopened.is_not(None), 1), else_=0).label("reopened"),
        case((g.last_resolved.is_not(None), 1), else_=0).label("ever_resolved"),
    ).subquery("facts")


def _sla_flags(prefix: str, due: Any, done: Any, flag: Any) -> tuple[Any, Any]:
    late = or_(flag == 1, and_(done.is_not(None), done > due))
    on_time = and_(flag == 0, done.is_not(None), done <= due)
    return (
        case((and_(due.is_not(None), on_time), 1), else_=0).label(f"{prefix}_met"),
        case((and_(due.is_not(None), late), 1), else_=0).label(f"{prefix}_breached"),
    )


# -- tallies: in SQL on PostgreSQL, in Python on SQLite ---------------------------------------

FLAGS = ("fr_met", "fr_breached", "res_met", "res_breached", "reopened", "ever_resolved")


@dataclass
class _Tally:
    total: int = 0
    fr_met: int = 0
    fr_breached: int = 0
    res_met: int = 0
    res_breached: int = 0
    reopened: int = 0
    ever_resolved: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    per_day: Counter[int] = field(default_factory=Counter)


def _tally_in_sql(session: Session, flt: ReportFilter, calendar: BusinessCalendar) -> _Tally:
    cal = _calendar_cte(calendar)
    t = _timed_sql(flt, cal).c

    def quantiles(done: Any, start: Any) -> Any:
        cut = cast(list(QUANTILES), ARRAY(Float))
        return func.percentile_cont(cut).within_group((done - start) / 60.0)

    row = session.execute(
        select(
            func.count(),
            *(func.coalesce(func.sum(t[name]), 0) for name in FLAGS),
            func.count(t.responded),
            quantiles(t.responded, t.opened),
            quantiles(t.b_responded, t.b_opened),
            func.count(t.resolved),
            quantiles(t.resolved, t.opened),
            quantiles(t.b_resolved, t.b_opened),
        )
    ).one()
    tally = _Tally(*(int(v) for v in row[:7]))
    tally.first_response = Durations.of(row[7], row[8] or (None, None), row[9] or (None, None))
    tally.resolution = Durations.of(row[10], row[11] or (None, None), row[12] or (None, None))
    day = func.greatest(func.width_bucket(epoch(_R.created_at), cal.c.starts), 1)
    requests = Request.__table__.join(cal, true())  # type: ignore[attr-defined]
    rows = session.execute(
        select(day, func.count()).select_from(requests).where(*_conditions(flt)).group_by(day)
    )
    tally.per_day = Counter({int(i) - 1: int(n) for i, n in rows})
    return tally


def _calendar_cte(calendar: BusinessCalendar) -> Any:
    def column(name: str) -> Any:
        return cast(literal(list(getattr(calendar, name)), ARRAY(Float)), ARRAY(Float)).label(name)

    return select(*(column(n) for n in ("starts", "opens", "lengths", "before"))).cte("calendar")


def _timed_sql(flt: ReportFilter, cal: Any) -> Any:
    """The facts with B (`BusinessCalendar.seconds`) of each moment as `b_opened` ..., in SQL.

    Each layer is fenced with OFFSET 0, which keeps PostgreSQL from inlining it: inlined, every
    reference to a column would repeat the expression behind it (twice the time, measured).
    Arrays are 1-based, like width_bucket's answer.
    """
    moments = ("opened", "responded", "resolved")
    f = select(_facts(flt)).offset(0).subquery("f")
    day = (
        func.greatest(func.width_bucket(f.c[m], cal.c.starts), 1).label(f"day_{m}") for m in moments
    )
    d = select(f, *day).select_from(f.join(cal, true())).offset(0).subquery("d")
    business = []
    for m in moments:
        moment, i = d.c[m], d.c[f"day_{m}"]
        span = func.least(func.greatest(moment - cal.c.opens[i], 0.0), cal.c.lengths[i])
        # GREATEST and LEAST skip a NULL moment: the CASE keeps it NULL.
        business.append(case((moment.is_not(None), cal.c.before[i] + span)).label(f"b_{m}"))
    return select(d, *business).select_from(d.join(cal, true())).offset(0).subquery("timed")


def _tally_in_python(session: Session, flt: ReportFilter, calendar: BusinessCalendar) -> _Tally:
    """The same tally from a stream of facts (a few numbers per request, no ORM objects)."""
    per_day, flags, seconds = Counter[int](), [0] * len(FLAGS), calendar.seconds
    wall: dict[str, array[float]] = {"fr": array("d"), "res": array("d")}
    business: dict[str, array[float]] = {"fr": array("d"), "res": array("d")}
    for opened, responded, resolved, *row_flags in session.connection().execute(
        select(_facts(flt))
    ):
        flags = list(map(add, flags, row_flags))
        per_day[calendar.index(opened)] += 1
        start = seconds(opened)
        for key, done in (("fr", responded), ("res", resolved)):
            if done is not None:
                wall[key].append((done - opened) / 60)
                business[key].append((seconds(done) - start) / 60)
    tally = _Tally(sum(per_day.values()), *flags, per_day=per_day)
    tally.first_response, tally.resolution = (
        Durations.of(len(wall[k]), _quantiles(wall[k]), _quantiles(business[k]))
        for k in ("fr", "res")
    )
    return tally


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks of sorted values (PostgreSQL percentile_cont)."""
    if not ordered:
        return None
    h = (len(ordered) - 1) * p
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def _quantiles(values: Iterable[float]) -> list[float | None]:
    ordered = sorted(values)
    return [percentile(ordered, p) for p in QUANTILES]


# -- volume, surveys and feedback: SQL aggregates on both databases ------------------------------


def _count_by(session: Session, flt: ReportFilter, column: Any) -> dict[str, int]:
    stmt = select(column, func.count()).where(*_conditions(flt)).group_by(column)
    counts = Counter({UNKNOWN if k is None else str(k): int(n) for k, n in session.execute(stmt)})
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _in_report(flt: ReportFilter) -> list[ColumnElement[bool]]:
    """Events of the report's requests (no subquery when the report covers every request)."""
    conditions = _conditions(flt)
    if not conditions:
        return [_E.request_id.is_not(None)]
    return [_E.request_id.in_(select(_R.id).where(*conditions))]


def _latest(flt: ReportFilter, kind: str, *columns: Any, per: tuple[Any, ...] = ()) -> Any:
    """`columns` of `kind` events, ranked newest first per request (and per `per`): rank 1 is
    the latest. A window function: one pass, no second lookup by id."""
    rank = func.row_number().over(partition_by=(_E.request_id, *per), order_by=_E.id.desc())
    return select(*columns, rank.label("rank")).where(_E.kind == kind, *_in_report(flt)).subquery()


def _ratings(session: Session, flt: ReportFilter) -> tuple[Counter[int], Counter[str]]:
    """Each survey's latest rating: the count per score, and the comments scored 1-2."""
    score, comment = _E.data["score"].as_integer(), _E.data["comment"].as_string()
    survey = _E.data["survey_id"].as_string()
    t = _latest(flt, "rated", score.label("score"), comment.label("comment"), per=(survey,)).c
    low = case((t.score <= 2, t.comment)).label("low")
    stmt = select(t.score, low, func.count()).where(t.rank == 1, t.score.is_not(None))
    scores, comments = Counter[int](), Counter[str]()
    for value, text, n in session.execute(stmt.group_by(t.score, low)):
        scores[int(value)] += int(n)
        comments.update({text: int(n)} if text else {})
    return scores, comments


def _csat(session: Session, flt: ReportFilter, scores: Counter[int]) -> Csat:
    stmt = select(func.count()).where(_E.kind == "survey_sent", *_in_report(flt))
    sent, responses = int(session.execute(stmt).scalar_one()), sum(scores.values())
    average = sum(s * n for s, n in scores.items()) / responses if responses else None
    happy = sum(n for s, n in scores.items() if s >= 4)
    return Csat(
        sent,
        responses,
        _ratio(responses, sent),
        average and round(average, 2),
        _ratio(happy, responses),
    )


def _root_causes(session: Session, flt: ReportFilter) -> list[dict[str, Any]]:
    cause = _E.data["root_cause"].as_string().label("root_cause")
    t = _latest(flt, "feedback_tagged", cause).c
    stmt = select(t.root_cause, func.count()).where(t.rank == 1, t.root_cause.is_not(None))
    counts = Counter({str(c): int(n) for c, n in session.execute(stmt.group_by(t.root_cause))})
    return top(counts, "root_cause", TOP_ROOT_CAUSES, minimum=1)


# -- small helpers ------------------------------------------------------------------------------


def _sla(met: int, breached: int) -> SlaTarget:
    return SlaTarget(met, breached, _ratio(met, met + breached))


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        yield from (
            (f"{prefix}.{name}", count) for name, count in (item.values() for item in value)
        )
    else:
        yield prefix, "" if value is None else value
