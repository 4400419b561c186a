"""The `[[hours]]` and `[[sla]]` tables of the config file, durations and SLA due times.

An SLA duration on the business clock counts business time only, and there a day ("d") is one
working day (09:00–18:00: 9 hours), so `resolution = "3d"` means three working days. On the
wall clock a day is 24 hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from omnidesk.services.calendar_cn import CALENDARS
from omnidesk.services.hours import BusinessHours

Priority = Literal["low", "normal", "high", "urgent"]
Clock = Literal["business", "wall"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = {name: name for name in WEEKDAYS} | {
    full: full[:3]
    for full in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DURATION_HELP = 'whole numbers with units d, h, m, s in that order, e.g. "30m", "2h", "1d12h", "0s"'


def parse_duration(text: str, day: timedelta = timedelta(days=1)) -> timedelta:
    """Parse "30m", "2h", "1d12h", "0s"; `day` is how long a "d" is (a working day on business)."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.match(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise ValueError(f"invalid duration {text!r}: use {DURATION_HELP}")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return days * day + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def parse_clock_time(text: str) -> time:
    """Parse "09:00" (24-hour HH:MM)."""
    match = _CLOCK_TIME.match(text.strip())
    if match is None:
        raise ValueError(f'invalid time {text!r}: use 24-hour HH:MM, e.g. "09:00" or "18:30"')
    return time(int(match.group(1)), int(match.group(2)))


class HoursConfig(BaseModel):
    """One `[[hours]]` table: a team's opening hours, weekly workdays and holiday calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="default", pattern=NAME_PATTERN)
    time_zone: str = "Asia/Shanghai"
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    workdays: tuple[str, ...] = WEEKDAYS[:5]
    calendar: str = "cn"
    holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'unknown time zone {value!r}: use an IANA name like "Asia/Shanghai"'
            ) from None
        return value

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _clock_time(cls, value: object) -> object:
        return parse_clock_time(value) if isinstance(value, str) else value

    @field_validator("workdays")
    @classmethod
    def _weekdays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        days = tuple(_WEEKDAY_NAMES.get(v.strip().lower(), "") for v in value)
        unknown = [v for v, d in zip(value, days, strict=True) if not d]
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}: use {', '.join(WEEKDAYS)}")
        if not days:
            raise ValueError("at least one workday is needed")
        return days

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, value: str) -> str:
        if value not in CALENDARS:
            raise ValueError(f"unknown calendar {value!r}: use one of {', '.join(CALENDARS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HoursConfig:
        if self.closes <= self.opens:
            raise ValueError(
                f"closes ({self.closes:%H:%M}) must be after opens ({self.opens:%H:%M})"
            )
        both = sorted(set(self.holidays) & set(self.extra_workdays))
        if both:
            raise ValueError(f"{both[0]} is listed both in holidays and in extra_workdays")
        return self

    def business_hours(self) -> BusinessHours:
        """The hours with the calendar's days; the table's own lists override the calendar's."""
        calendar = CALENDARS[self.calendar]
        own_holidays, own_extra = frozenset(self.holidays), frozenset(self.extra_workdays)
        return BusinessHours(
            time_zone=self.time_zone,
            opens=self.opens,
            closes=self.closes,
            workdays=frozenset(WEEKDAYS.index(d) for d in self.workdays),
            holidays=(calendar.holidays - own_extra) | own_holidays,
            extra_workdays=(calendar.extra_workdays - own_holidays) | own_extra,
        )


class SlaPolicyConfig(BaseModel):
    """One `[[sla]]` table: due times for requests of a priority and/or category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    priority: Priority | None = None
    category: str | None = None
    first_response: str
    resolution: str
    clock: Clock = "business"
    hours: str | None = None
    """The `[[hours]]` table whose clock this policy runs on (None: the team's or "default")."""

    @field_validator("first_response", "resolution")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _resolution_after_response(self) -> SlaPolicyConfig:
        if parse_duration(self.resolution) < parse_duration(self.first_response):
            raise ValueError("resolution must not be shorter than first_response")
        return self

    def durations(self, hours: BusinessHours) -> tuple[timedelta, timedelta]:
        """First response and resolution as amounts of this policy's clock."""
        day = hours.workday_length if self.clock == "business" else timedelta(days=1)
        return parse_duration(self.first_response, day), parse_duration(self.resolution, day)


def due_times(
    policy: SlaPolicyConfig, hours: BusinessHours, start: datetime
) -> tuple[datetime, datetime]:
    """(first_response_due, resolution_due) for a request received at `start`."""
    first, resolution = policy.durations(hours)
    if policy.clock == "wall":
        # In UTC: Python adds to a zoned datetime in wall time (24 h across DST would be 23 or 25).
        utc = start.astimezone(UTC)
        return (utc + first).astimezone(hours.zone), (utc + resolution).astimezone(hours.zone)
    return hours.add(start, first), hours.add(start, resolution)


def match_policy(
    policies: Sequence[SlaPolicyConfig], priority: str | None, category: str | None
) -> SlaPolicyConfig | None:
    """The most specific policy for a request: priority and category, then either, then neither.

    Among equally specific policies the first in the file wins.
    """

    def fits(policy: SlaPolicyConfig) -> bool:
        return policy.priority in (None, priority) and policy.category in (None, category)

    def specificity(policy: SlaPolicyConfig) -> int:
        return (policy.category is not None) * 2 + (policy.priority is not None)

    candidates = [p for p in policies if fits(p)]
    return max(candidates, key=specificity, default=None)


def check_unique(names: Iterable[str], table: str) -> list[str]:
    """Error lines for names used twice in a list of tables (`hours`, `sla`)."""
    seen: set[str] = set()
    errors = []
    for index, name in enumerate(names):
        if name in seen:
            errors.append(f"{table}[{index}].name: duplicate name {name!r}")
        seen.add(name)
    return errors
