"""China's public holidays and adjusted working days (调休) as the State Council publishes them.

Sources, checked against the published text:
- 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024-11-12）
- 国务院办公厅关于2026年部分节假日安排的通知（2025-11-04，新华社）

The State Council publishes each year's schedule in November of the year before: add the next
year here when it is out (and extend `YEARS`). Outside `YEARS` only the weekly workdays apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Calendar:
    """Days off that fall on workdays (holidays) and weekend days worked instead (调休)."""

    name: str
    holidays: frozenset[date]
    extra_workdays: frozenset[date]
    years: tuple[int, ...] = ()

    def covers(self, year: int) -> bool:
        """Whether this calendar knows the official schedule of `year`."""
        return year in self.years


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# Every day off of each festival period, weekends inside the period included (harmless: they are
# days off anyway), so that a team working weekends still gets the festival off.
_HOLIDAY_PERIODS: dict[int, list[tuple[str, date, date]]] = {
    2025: [
        ("元旦", date(2025, 1, 1), date(2025, 1, 1)),
        ("春节", date(2025, 1, 28), date(2025, 2, 4)),
        ("清明节", date(2025, 4, 4), date(2025, 4, 6)),
        ("劳动节", date(2025, 5, 1), date(2025, 5, 5)),
        ("端午节", date(2025, 5, 31), date(2025, 6, 2)),
        ("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8)),
    ],
    2026: [
        ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
        ("春节", date(2026, 2, 15), date(2026, 2, 23)),
        ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
        ("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
        ("端午节", date(2026, 6, 19), date(2026, 6, 21)),
        ("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
        ("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
    ],
}

# Weekend days that are working days (上班) to make up for the long breaks.
_EXTRA_WORKDAYS: dict[int, list[date]] = {
    2025: [
        date(2025, 1, 26),  # 周日, 春节
        date(2025, 2, 8),  # 周六, 春节
        date(2025, 4, 27),  # 周日, 劳动节
        date(2025, 9, 28),  # 周日, 国庆节
        date(2025, 10, 11),  # 周六, 国庆节
    ],
    2026: [
        date(2026, 1, 4),  # 周日, 元旦
        date(2026, 2, 14),  # 周六, 春节
        date(2026, 2, 28),  # 周六, 春节
        date(2026, 5, 9),  # 周六, 劳动节
        date(2026, 9, 20),  # 周日, 国庆节
        date(2026, 10, 10),  # 周六, 国庆节
    ],
}

YEARS = tuple(sorted(_HOLIDAY_PERIODS))


def holiday_names() -> dict[date, str]:
    """Each official day off with its festival's name (for display)."""
    return {
        day: name
        for periods in _HOLIDAY_PERIODS.values()
        for name, first, last in periods
        for day in _days(first, last)
    }


CN = Calendar(
    name="cn",
    holidays=frozenset(holiday_names()),
    extra_workdays=frozenset(d for days in _EXTRA_WORKDAYS.values() for d in days),
    years=YEARS,
)
NONE = Calendar(name="none", holidays=frozenset(), extra_workdays=frozenset())
CALENDARS: dict[str, Calendar] = {CN.name: CN, NONE.name: NONE}
