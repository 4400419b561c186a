"""Business hours: when specialists work (default 09:00–18:00 on workdays, Asia/Shanghai).

A day is a workday when it is an extra workday (调休: a weekend day worked), or else when it is
one of the weekly `workdays` and not a holiday. Arithmetic happens in UTC on the boundaries of
each local working day, so a DST change (America/New_York) moves opening in UTC, not in local
time; Python's same-zone aware arithmetic would be wall-clock and wrong across the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_OPEN = time(9, 0)
DEFAULT_CLOSE = time(18, 0)
WORKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday … Friday
MAX_DAYS_WITHOUT_WORK = 366

_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Zones a Chinese desk's customers know by the name of their clock, not of the zone.
_BEIJING_TIME = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC"})
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: business hours need aware datetimes")
    return moment


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours in one time zone; all arguments and results are tz-aware datetimes."""

    time_zone: str = "Asia/Shanghai"
    opens: time = DEFAULT_OPEN
    closes: time = DEFAULT_CLOSE
    workdays: frozenset[int] = WORKDAYS
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Check the day's window and freeze the sets (callers may pass lists or sets)."""
        if self.closes <= self.opens:
            window = f"opens {self.opens:%H:%M}, closes {self.closes:%H:%M}"
            raise ValueError(f"closes must be after opens ({window})")
        for name in ("workdays", "holidays", "extra_workdays"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        ZoneInfo(self.time_zone)  # raises ZoneInfoNotFoundError for an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        """The desk's time zone."""
        return ZoneInfo(self.time_zone)

    @property
    def workday_length(self) -> timedelta:
        """Opening to closing on a working day (a business "day" of an SLA)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_workday(self, day: date | datetime) -> bool:
        """Whether the desk works on this local date (an aware datetime is taken in the zone)."""
        if isinstance(day, datetime):
            day = day.astimezone(self.zone).date() if day.tzinfo else day.date()
        if day in self.extra_workdays:
            return True
        return day.weekday() in self.workdays and day not in self.holidays

    def is_open(self, at: datetime) -> bool:
        """Whether specialists are at work at this moment."""
        local = _require_aware(at).astimezone(self.zone)
        return self.is_workday(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open, else the next moment the desk opens (in the desk's zone)."""
        if self.is_open(at):
            return at
        moment = at.astimezone(UTC)
        opens, _ = next(w for w in self._windows(self._local_date(moment)) if w[1] > moment)
        return opens.astimezone(self.zone)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of business time after `start` (nights, weekends, holidays skip).

        A zero duration is `start` itself; a sum that ends exactly at closing time is that
        closing time, not the next opening. The result is in the desk's zone.
        """
        if duration < timedelta(0):
            raise ValueError(f"cannot add a negative business duration ({duration})")
        cursor = _require_aware(start).astimezone(UTC)
        if not duration:
            return start
        remaining = duration
        for opens, closes in self._windows(self._local_date(cursor)):
            if closes <= cursor:
                continue
            cursor = max(cursor, opens)
            if remaining <= closes - cursor:
                return (cursor + remaining).astimezone(self.zone)
            remaining -= closes - cursor
        raise AssertionError("unreachable: _windows is endless or raises")  # pragma: no cover

    def business_duration(self, start: datetime, end: datetime) -> timedelta:
        """Business time between two moments (negative when `end` is before `start`)."""
        start, end = _require_aware(start).astimezone(UTC), _require_aware(end).astimezone(UTC)
        if end < start:
            return -self.business_duration(end, start)
        total = timedelta(0)
        day, last = self._local_date(start), self._local_date(end)
        while day <= last:
            window = self._window(day)
            if window is not None:
                total += max(timedelta(0), min(window[1], end) - max(window[0], start))
            day += timedelta(days=1)
        return total

    def describe(self, moment: datetime, at: datetime, language: str) -> str:
        """`moment` as a customer reads it on `at`: "明天 09:00", "tomorrow at 09:00" ..."""
        local = _require_aware(moment).astimezone(self.zone)
        today = _require_aware(at).astimezone(self.zone).date()
        clock = f"{local:%H:%M}"
        zh = language.lower().startswith("zh")
        days = (local.date() - today).days
        if days == 0:
            return f"今天 {clock}" if zh else f"today at {clock}"
        if days == 1:
            return f"明天 {clock}" if zh else f"tomorrow at {clock}"
        day, other_year = local.date(), local.year != today.year
        if zh:
            year = f"{day.year}年" if other_year else ""
            return f"{year}{day.month}月{day.day}日（{_WEEKDAYS_ZH[day.weekday()]}）{clock}"
        year = f" {day.year}" if other_year else ""
        weekday, month = _WEEKDAYS_EN[day.weekday()], _MONTHS_EN[day.month - 1]
        return f"{weekday} {day.day} {month}{year} at {clock}"

    def today(self, at: datetime) -> date:
        """The desk's date at this moment: "today" everywhere (reports, the dashboard, exports)."""
        return _require_aware(at).astimezone(self.zone).date()

    def zone_label(self, language: str, at: datetime | None = None) -> str:
        """The desk's zone as a person reads it: "北京时间", "EST (America/New_York)"."""
        zh = language.lower().startswith("zh")
        if self.time_zone in _BEIJING_TIME:
            return "北京时间" if zh else "Beijing time"
        moment = _require_aware(at).astimezone(self.zone) if at else datetime.now(self.zone)
        abbreviation = moment.tzname() or ""
        if not abbreviation.isalpha() or abbreviation == self.time_zone:
            return self.time_zone
        return f"{abbreviation} ({self.time_zone})"

    def describe_with_zone(self, moment: datetime, at: datetime, language: str) -> str:
        """`describe`, saying whose clock it is: "明天 09:00（北京时间）", "tomorrow at 09:00
        (Beijing time)". For a reader whose own clock may be in another zone (the widget)."""
        text, label = self.describe(moment, at, language), self.zone_label(language, moment)
        return f"{text}（{label}）" if language.lower().startswith("zh") else f"{text} ({label})"

    def clock(self, at: datetime) -> dict[str, object]:
        """What a page needs so it never reads days off the browser's clock: the desk's zone,
        today's date there, the server's now, whether specialists are at work and when next."""
        return {
            "time_zone": self.time_zone,
            "today": self.today(at).isoformat(),
            "now": _require_aware(at).astimezone(UTC).isoformat(),
            "open": self.is_open(at),
            "next_opening": self.next_opening(at).isoformat(),
        }

    def describe_next_opening(self, at: datetime, language: str) -> str:
        """When a specialist will next be at work, for an acknowledgement ("明天 09:00")."""
        return self.describe(self.next_opening(at), at, language)

    # -- helpers ---------------------------------------------------------------------------
    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC opening and closing of a local date, or None on a day off."""
        if not self.is_workday(day):
            return None
        opens = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
        return opens, datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)

    def _windows(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """The working windows from `first` on, without end; raises after a year without one."""
        day, idle = first, 0
        while True:
            window = self._window(day)
            if window is not None:
                idle = 0
                yield window
            else:
                idle += 1
                if idle > MAX_DAYS_WITHOUT_WORK:
                    raise ValueError("no workday within a year: check workdays and holidays")
            day += timedelta(days=1)
