"""Reports over a large event log: `compute` for a month and for everything, against a raw scan.

    python benchmarks/reports.py [--events 1000000] [--seed 7]

Fills an empty database with about events / 10 requests opened over twelve months (December
2025 to November 2026), each with a realistic event mix: opening, classification, routing,
assignment, SLA clock, acknowledgement, agent replies, customer follow-ups, resolutions,
reopenings, SLA breaches and escalations, surveys, ratings with comments and root-cause tags.
Rows go in with COPY on PostgreSQL and executemany on SQLite. Then a fresh child process (so the
memory figures are the report's own) times, median of three after a warm-up:

- the baseline: a plain `SELECT kind, count(*) FROM event GROUP BY kind`;
- `reports.compute` for November 2026 and for the whole period, with the ratio to the baseline,
  tracemalloc's peak during one run and the growth of the process's peak RSS (getrusage).

SQLite in a temporary directory unless OMNIDESK_DATABASE_URL names a PostgreSQL database, which
must be empty (the script runs the migrations). Target: under 2 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from omnidesk.migrate import upgrade  # noqa: E402
from omnidesk.models import ConnectorRecord, Customer  # noqa: E402
from omnidesk.services.hours import BusinessHours  # noqa: E402
from omnidesk.services.reports import ReportFilter, compute  # noqa: E402
from omnidesk.settings import Settings  # noqa: E402

FIRST_DAY = datetime(2025, 12, 1, tzinfo=UTC) - timedelta(hours=8)  # 00:00 in Shanghai
DAYS = 365
CHANNELS = ("email", "twilio", "wechat", "weibo", "webchat")
CATEGORIES = ("order_status", "delivery", "returns", "billing", "complaint", "other")
TEAMS = ("logistics", "billing", "care")
AGENTS = tuple(f"agent{n:02d}" for n in range(30))
CAUSES = ("courier_delay", "stock_error", "billing_error", "product_defect", "user_error")
COMMENTS = (
    "快递太慢了，物流信息一直不更新",
    "客服回复太慢",
    "The courier was late and support never answered",
    "Refund took too long",
    "还可以",
    None,
)
REQUEST_COLUMNS = (
    "id", "customer_id", "channel", "connector_id", "category", "needs_triage", "priority",
    "language", "status", "team", "assignee", "escalation_level", "first_response_due",
    "resolution_due", "created_at", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = ("request_id", "kind", "actor", "at", "data")


# -- the event log -----------------------------------------------------------------------------


def request_story(rng: random.Random, request_id: int) -> tuple[tuple[Any, ...], list[tuple]]:
    """One request's row and its events (about ten)."""
    opened = FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86_400))
    channel, category = rng.choice(CHANNELS), rng.choice(CATEGORIES)
    team, agent = rng.choice(TEAMS), rng.choice(AGENTS)
    fr_due, res_due = opened + timedelta(hours=4), opened + timedelta(days=3)
    events = [
        ("request_opened", opened, {"channel": channel}),
        ("classified", opened, {"category": category, "language": "zh", "priority": "normal"}),
        ("routed", opened, {"team": team}),
        ("assigned", opened, {"assignee": agent}),
        ("sla_set", opened, {"policy": "normal"}),
        ("replied", opened + timedelta(seconds=5), {"kind": "acknowledgement"}),
    ]
    responded = opened + timedelta(minutes=rng.lognormvariate(4.5, 1.2))
    if rng.random() < 0.92:
        events.append(("replied", responded, {"kind": "agent_reply"}))
    if rng.random() < 0.5:
        events.append(("message_attached", responded + timedelta(hours=1), {"how": "thread"}))
    if rng.random() < 0.1:
        events.append(("sla_breached", fr_due, {"target": "first_response"}))
        events.append(("escalated", fr_due, {"target": "first_response"}))
    if rng.random() < 0.85:
        events += _resolution(rng, responded)
    row = (
        request_id, 1, channel, 1, category, False, "normal", "zh", "open", team, agent, 0,
        fr_due, res_due, opened, opened,
    )  # fmt: skip
    return row, [(request_id, kind, "system", at, data) for kind, at, data in events]


def _resolution(rng: random.Random, responded: datetime) -> list[tuple]:
    resolved = responded + timedelta(minutes=rng.lognormvariate(6.5, 1.0))
    events: list[tuple] = [("resolved", resolved, {})]
    if rng.random() < 0.08:
        events.append(("reopened", resolved + timedelta(hours=20), {}))
        resolved += timedelta(days=1)
        if rng.random() < 0.9:
            events.append(("resolved", resolved, {}))
    survey_id = f"s{rng.getrandbits(40):x}"
    if rng.random() < 0.7:
        events.append(("survey_sent", resolved, {"channel": "same", "survey_id": survey_id}))
        if rng.random() < 0.35:
            score, comment = rng.choice((1, 2, 3, 4, 5, 5, 4)), rng.choice(COMMENTS)
            rating = {"score": score, "comment": comment, "survey_id": survey_id}
            events.append(("rated", resolved + timedelta(hours=2), rating))
    if rng.random() < 0.5:
        tag = {"resolution": "fixed", "root_cause": rng.choice(CAUSES), "note": None}
        events.append(("feedback_tagged", resolved, tag))
    return events


def stories(events: int, seed: int) -> Iterator[tuple[tuple[Any, ...], list[tuple]]]:
    """Requests until `events` events are written (the last request may be cut short)."""
    rng, written, request_id = random.Random(seed), 0, 0
    while written < events:
        request_id += 1
        row, log = request_story(rng, request_id)
        log = log[: events - written]
        written += len(log)
        yield row, log


# -- bulk insert ---------------------------------------------------------------------------------


def populate(url: str, events: int, seed: int) -> int:
    """Insert the log; returns the number of requests."""
    engine = create_engine(url)
    with Session(engine) as session:
        session.add(Customer(id=1, display_name="bench"))
        session.add(ConnectorRecord(id=1, name="bench", channel="email"))
        session.commit()
    insert = _copy if url.startswith("postgresql") else _executemany
    with engine.begin() as conn:
        requests = insert(conn.connection.driver_connection, stories(events, seed))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return requests


def _batches(source: Iterator[tuple[tuple, list[tuple]]], size: int = 20_000) -> Iterator[Any]:
    requests, events = [], []
    for row, log in source:
        requests.append(row)
        events += log
        if len(events) >= size:
            yield requests, events
            requests, events = [], []
    yield requests, events


def _executemany(dbapi: Any, source: Iterator[tuple[tuple, list[tuple]]]) -> int:
    fmt = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite storage format, UTC

    def cell(value: Any) -> Any:
        return value.astimezone(UTC).strftime(fmt) if isinstance(value, datetime) else value

    marks_r, marks_e = ", ".join("?" * len(REQUEST_COLUMNS)), ", ".join("?" * len(EVENT_COLUMNS))
    count, cursor = 0, dbapi.cursor()
    for requests, events in _batches(source):
        cursor.executemany(
            f"INSERT INTO request ({', '.join(REQUEST_COLUMNS)}) VALUES ({marks_r})",
            [tuple(cell(v) for v in row) for row in requests],
        )
        cursor.executemany(
            f"INSERT INTO event ({', '.join(EVENT_COLUMNS)}) VALUES ({marks_e})",
            [(r, k, a, cell(at), json.dumps(d)) for r, k, a, at, d in events],
        )
        count += len(requests)
    return count


def _copy(dbapi: Any, source: Iterator[tuple[tuple, list[tuple]]]) -> int:
    count, cursor = 0, dbapi.cursor()
    for requests, events in _batches(source):
        with cursor.copy(f"COPY request ({', '.join(REQUEST_COLUMNS)}) FROM STDIN") as copy:
            for row in requests:
                copy.write_row(row)
        with cursor.copy(f"COPY event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for request_id, kind, actor, at, data in events:
                copy.write_row((request_id, kind, actor, at, json.dumps(data, ensure_ascii=False)))
        count += len(requests)
    cursor.execute("SELECT setval('request_id_seq', (SELECT max(id) FROM request))")
    return count


# -- measurement (in a child process) -----------------------------------------------------------


def measure(url: str) -> dict[str, Any]:
    """Time the baseline and two reports; memory of one run each."""
    engine, hours = create_engine(url), BusinessHours()
    month = ReportFilter.for_days(date(2026, 11, 1), date(2026, 11, 30), hours.time_zone)
    rss_before = _max_rss_mb()
    results: dict[str, Any] = {}
    with Session(engine) as session:
        baseline = _timed(lambda: session.execute(text(BASELINE)).all())
        results["baseline"] = {"seconds": baseline}
        for name, flt in (("month", month), ("whole", ReportFilter())):
            seconds = _timed(lambda flt=flt: compute(session, flt, hours))
            peak = _traced_peak_mb(lambda flt=flt: compute(session, flt, hours))
            total = compute(session, flt, hours).volume.total
            results[name] = {"seconds": seconds, "ratio": seconds / baseline, "requests": total}
            results[name]["tracemalloc_peak_mb"] = peak
    results["max_rss_mb"] = {"before": rss_before, "after": _max_rss_mb()}
    return results


BASELINE = "SELECT kind, count(*) FROM event GROUP BY kind"


def _timed(run: Callable[[], Any], repeat: int = 3) -> float:
    run()  # warm-up: caches, plans
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _traced_peak_mb(run: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        json.dump(measure(args.measure), sys.stdout)
        return
    with tempfile.TemporaryDirectory(prefix="omnidesk-reports-") as tmp:
        url = os.environ.get("OMNIDESK_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(Settings(database_url=url, data_dir=Path(tmp)))
        _require_empty(url)
        started = time.perf_counter()
        requests = populate(url, args.events, args.seed)
        loaded = time.perf_counter() - started
        child = [sys.executable, __file__, "--measure", url]
        results = json.loads(subprocess.run(child, check=True, capture_output=True).stdout)
    _print(url, args.events, requests, loaded, results)


def _require_empty(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        if conn.execute(text("SELECT count(*) FROM event")).scalar():
            sys.exit("the database is not empty: give the benchmark an empty one")
    engine.dispose()


def _print(url: str, events: int, requests: int, loaded: float, results: dict[str, Any]) -> None:
    out = io.StringIO()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    out.write(f"{backend}: {events:,} events, {requests:,} requests, loaded in {loaded:.1f} s\n")
    out.write(f"  baseline ({BASELINE}): {results['baseline']['seconds']:.3f} s\n")
    for name, label in (("month", "November 2026"), ("whole", "whole period")):
        r = results[name]
        out.write(
            f"  report {label:<14} {r['requests']:>7,} requests: {r['seconds']:.3f} s "
            f"({r['ratio']:.1f}x baseline), tracemalloc peak {r['tracemalloc_peak_mb']:.1f} MiB\n"
        )
    rss = results["max_rss_mb"]
    out.write(f"  process peak RSS: {rss['before']:.0f} MiB before, {rss['after']:.0f} after\n")
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
