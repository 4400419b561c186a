"""The business clock as running totals, in Python and as SQL the reports can use.

`BusinessCalendar` turns "business seconds between two moments" into a subtraction, so
PostgreSQL can compute business durations in SQL (arrays + `width_bucket`) and SQLite rows can
be timed in Python with the same numbers. `epoch` is a timestamp's epoch seconds in either
database's SQL.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from omnidesk.services.hours import BusinessHours


@dataclass(frozen=True)
class BusinessCalendar:
    """Business seconds as a running total B over local days, so a duration is B(end) - B(start).

    Per day: its local midnight, its opening and open length (0 on a day off) in epoch seconds,
    and the business seconds before it. Equals `BusinessHours.business_duration` within its days.
    """

    days: tuple[date, ...]
    starts: tuple[float, ...]
    opens: tuple[float, ...]
    lengths: tuple[float, ...]
    before: tuple[float, ...]

    @classmethod
    def build(cls, hours: BusinessHours, first: date, last: date) -> BusinessCalendar:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        rows, total = [], 0.0
        for day in days:
            midnight = datetime.combine(day, time(0), tzinfo=hours.zone).timestamp()
            opening, closing = (
                datetime.combine(day, moment, tzinfo=hours.zone).timestamp()
                for moment in (hours.opens, hours.closes)
            )
            length = closing - opening if hours.is_workday(day) else 0.0
            rows.append((midnight, opening, length, total))
            total += length
        return cls(tuple(days), *(tuple(column) for column in zip(*rows, strict=True)))

    def index(self, moment: float) -> int:
        """The day an epoch second falls on (the first day for anything earlier)."""
        return max(0, bisect_right(self.starts, moment) - 1)

    def seconds(self, moment: float) -> float:
        """B: business seconds from the first day's midnight to `moment`."""
        i = self.index(moment)
        return self.before[i] + min(max(moment - self.opens[i], 0.0), self.lengths[i])


class epoch(FunctionElement[float]):  # noqa: N801 - named like the SQL function it stands for
    """Seconds since 1970-01-01 UTC of a timestamp, as a float."""

    type = Float()
    name = "epoch"
    inherit_cache = True


@compiles(epoch, "postgresql")
def _epoch_postgresql(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS FLOAT)"


@compiles(epoch)
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTC as text; julianday() reads it (to the millisecond).
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"
