"""Business hours: when specialists work (default 09:00–18:00 on workdays, Asia/Shanghai)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_OPEN = time(9, 0)
DEFAULT_CLOSE = time(18, 0)
WORKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday … Friday


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours in one time zone; all arguments and results are tz-aware datetimes."""

    time_zone: str = "Asia/Shanghai"
    opens: time = DEFAULT_OPEN
    closes: time = DEFAULT_CLOSE
    workdays: frozenset[int] = WORKDAYS

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_workday(self, local: datetime) -> bool:
        return local.weekday() in self.workdays

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        return self.is_workday(local) and self.opens <= local.time() < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open, else the next moment the desk opens."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.zone)
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        for _ in range(366):
            candidate = datetime.combine(day, self.opens, tzinfo=self.zone)
            if self.is_workday(candidate):
                return candidate
            day += timedelta(days=1)
        raise ValueError("no workday within a year")
