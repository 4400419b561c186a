"""Business-hour arithmetic in the desk's time zone: holidays, 调休, SLA clocks, descriptions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from omnidesk.services.calendar_cn import CN, holiday_names
from omnidesk.services.hours import BusinessHours
from omnidesk.services.hours_config import (
    HoursConfig,
    SlaPolicyConfig,
    due_times,
    match_policy,
    parse_duration,
)

pytestmark = pytest.mark.clock

HOURS = BusinessHours()
BEIJING = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
CHINA = HoursConfig().business_hours()  # the default [[hours]] table: 09:00–18:00, calendar cn


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)  # type: ignore[misc]


# -- the plain week (kept from the first version) ----------------------------------------------


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        pytest.param(datetime(2026, 11, 25, 1, 0, tzinfo=UTC), True, id="wed-09:00-beijing"),
        pytest.param(datetime(2026, 11, 25, 0, 59, tzinfo=UTC), False, id="wed-08:59-beijing"),
        pytest.param(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), False, id="wed-18:00-beijing"),
        pytest.param(datetime(2026, 11, 28, 3, 0, tzinfo=UTC), False, id="saturday-noon"),
    ],
)
def test_open_hours_are_judged_in_beijing_time(utc, is_open):
    assert HOURS.is_open(utc) is is_open


def test_after_closing_the_next_opening_is_the_next_workday_at_nine():
    friday_night = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 23:00 Friday in Beijing
    opening = HOURS.next_opening(friday_night)
    assert opening.astimezone(UTC) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_when_open_the_next_opening_is_now():
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert HOURS.next_opening(now) == now


def test_naive_datetimes_are_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="no time zone"):
        HOURS.is_open(datetime(2026, 11, 25, 10, 0))


def test_closing_before_opening_is_refused():
    with pytest.raises(ValueError, match="closes must be after opens"):
        BusinessHours(opens=time(18, 0), closes=time(9, 0))


# -- holidays and adjusted working days (调休) ---------------------------------------------------


@pytest.mark.parametrize(
    ("day", "is_workday"),
    [
        pytest.param(date(2025, 1, 1), False, id="2025-new-year-wednesday"),
        pytest.param(date(2025, 1, 26), True, id="2025-spring-festival-sunday-worked"),
        pytest.param(date(2025, 2, 3), False, id="2025-spring-festival-monday-off"),
        pytest.param(date(2025, 2, 8), True, id="2025-spring-festival-saturday-worked"),
        pytest.param(date(2025, 4, 27), True, id="2025-labour-day-sunday-worked"),
        pytest.param(date(2025, 10, 8), False, id="2025-national-day-eighth-day-off"),
        pytest.param(date(2025, 10, 11), True, id="2025-national-day-saturday-worked"),
        pytest.param(date(2026, 1, 2), False, id="2026-new-year-friday-off"),
        pytest.param(date(2026, 1, 4), True, id="2026-new-year-sunday-worked"),
        pytest.param(date(2026, 2, 14), True, id="2026-spring-festival-saturday-worked"),
        pytest.param(date(2026, 2, 23), False, id="2026-spring-festival-monday-off"),
        pytest.param(date(2026, 2, 24), True, id="2026-back-to-work-tuesday"),
        pytest.param(date(2026, 5, 9), True, id="2026-labour-day-saturday-worked"),
        pytest.param(date(2026, 9, 20), True, id="2026-national-day-sunday-worked"),
        pytest.param(date(2026, 10, 1), False, id="2026-national-day-thursday-off"),
        pytest.param(date(2026, 10, 8), True, id="2026-national-day-over-thursday"),
        pytest.param(date(2026, 11, 28), False, id="ordinary-saturday"),
        pytest.param(date(2026, 11, 25), True, id="ordinary-wednesday"),
    ],
)
def test_china_calendar_marks_holidays_and_adjusted_working_days(day, is_workday):
    assert CHINA.is_workday(day) is is_workday


def test_a_sunday_that_is_a_workday_opens_at_nine():
    sunday = beijing(2026, 9, 20, 10, 0)
    assert sunday.weekday() == 6
    assert CHINA.is_open(sunday)
    assert not HOURS.is_open(sunday)  # without the calendar it is just a Sunday


def test_the_calendar_data_matches_the_state_council_notices():
    names = holiday_names()
    days_off = {year: sum(1 for d in names if d.year == year) for year in (2025, 2026)}
    assert days_off == {2025: 28, 2026: 33}
    assert names[date(2026, 2, 15)] == "春节"
    assert all(d.weekday() >= 5 for d in CN.extra_workdays)
    assert not CN.holidays & CN.extra_workdays
    assert CN.covers(2025)
    assert CN.covers(2026)
    assert not CN.covers(2027)


def test_after_the_last_day_before_national_day_the_next_opening_is_the_eighth():
    evening = beijing(2026, 9, 30, 20, 0)
    assert CHINA.next_opening(evening) == beijing(2026, 10, 8, 9, 0)


def test_friday_evening_before_an_adjusted_saturday_opens_on_that_saturday():
    assert CHINA.next_opening(beijing(2026, 10, 9, 20, 0)) == beijing(2026, 10, 10, 9, 0)


def test_a_team_table_can_override_the_calendar_in_both_directions():
    hours = HoursConfig(
        holidays=[date(2026, 11, 25)], extra_workdays=[date(2026, 10, 2)]
    ).business_hours()
    assert not hours.is_workday(date(2026, 11, 25))
    assert hours.is_workday(date(2026, 10, 2))
    assert not hours.is_workday(date(2026, 10, 1))


# -- adding business time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        pytest.param(beijing(2026, 11, 25, 23, 0), "2h", beijing(2026, 11, 26, 11, 0), id="night"),
        pytest.param(
            beijing(2026, 11, 25, 17, 0), "2h", beijing(2026, 11, 26, 10, 0), id="over-closing"
        ),
        pytest.param(
            beijing(2026, 11, 27, 17, 0), "2h", beijing(2026, 11, 30, 10, 0), id="over-weekend"
        ),
        pytest.param(
            beijing(2026, 11, 25, 9, 0), "9h", beijing(2026, 11, 25, 18, 0), id="to-closing"
        ),
        pytest.param(
            beijing(2026, 2, 13, 17, 0), "2h", beijing(2026, 2, 14, 10, 0), id="into-tiaoxiu-sat"
        ),
        pytest.param(
            beijing(2026, 2, 14, 17, 0), "2h", beijing(2026, 2, 24, 10, 0), id="over-spring-fest"
        ),
        pytest.param(
            beijing(2026, 9, 30, 12, 0), "1d", beijing(2026, 10, 8, 12, 0), id="over-golden-week"
        ),
        pytest.param(beijing(2026, 11, 25, 23, 0), "0s", beijing(2026, 11, 25, 23, 0), id="zero"),
    ],
)
def test_adding_business_time_skips_nights_weekends_and_holidays(start, duration, due):
    added = CHINA.add(start, parse_duration(duration, day=CHINA.workday_length))
    assert added == due


def test_adding_a_negative_duration_is_an_error():
    with pytest.raises(ValueError, match="negative"):
        CHINA.add(beijing(2026, 11, 25, 10, 0), timedelta(hours=-1))


def test_business_duration_counts_only_open_time():
    friday, monday = beijing(2026, 11, 27, 17, 0), beijing(2026, 11, 30, 10, 0)
    assert CHINA.business_duration(friday, monday) == timedelta(hours=2)
    assert CHINA.business_duration(monday, friday) == timedelta(hours=-2)
    assert CHINA.business_duration(beijing(2026, 10, 1, 9), beijing(2026, 10, 7, 18)) == timedelta(
        0
    )


@pytest.mark.parametrize("minutes", [1, 59, 61, 540, 541, 2000, 10000])
def test_business_duration_undoes_add(minutes):
    start = beijing(2026, 9, 29, 16, 30)
    duration = timedelta(minutes=minutes)
    assert CHINA.business_duration(start, CHINA.add(start, duration)) == duration


# -- a zone with daylight saving time ----------------------------------------------------------

NY = HoursConfig(
    name="us", time_zone="America/New_York", opens="09:00", closes="17:00", calendar="none"
).business_hours()


def test_opening_follows_local_time_across_the_dst_change():
    # 2026-03-08 02:00 EST → 03:00 EDT: 09:00 is 14:00 UTC on Friday, 13:00 UTC on Monday.
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=NEW_YORK)
    opening = NY.next_opening(friday_evening)
    assert opening.astimezone(UTC) == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert opening.hour == 9


def test_business_time_across_the_dst_change_is_counted_in_local_hours():
    friday_16 = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)
    assert NY.add(friday_16, timedelta(hours=2)) == datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)
    week = NY.business_duration(
        datetime(2026, 3, 6, 9, 0, tzinfo=NEW_YORK), datetime(2026, 3, 9, 17, 0, tzinfo=NEW_YORK)
    )
    assert week == timedelta(hours=16)


def test_a_wall_clock_day_across_the_dst_change_is_24_real_hours():
    policy = SlaPolicyConfig(name="vip", first_response="1d", resolution="1d", clock="wall")
    saturday_noon = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    first, _ = due_times(policy, NY, saturday_noon)
    assert first.astimezone(UTC) - saturday_noon.astimezone(UTC) == timedelta(hours=24)
    assert first.astimezone(NEW_YORK).hour == 13  # 12:00 EST + 24 h = 13:00 EDT


def test_a_zone_without_dst_keeps_opening_at_the_same_utc_time_all_year():
    winter, summer = (
        CHINA.next_opening(beijing(2026, 1, 5, 7)),
        CHINA.next_opening(beijing(2026, 7, 6, 7)),
    )
    assert winter.astimezone(UTC).time() == summer.astimezone(UTC).time() == time(1, 0)


# -- SLA due times -----------------------------------------------------------------------------


def test_a_request_at_23_00_on_wednesday_is_due_after_nine_on_thursday():
    policy = SlaPolicyConfig(name="orders", first_response="2h", resolution="3d")
    wednesday_night = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    first, resolution = due_times(policy, CHINA, wednesday_night)
    assert first > beijing(2026, 11, 26, 9, 0)
    assert first == beijing(2026, 11, 26, 11, 0)
    assert resolution == beijing(2026, 11, 30, 18, 0)  # three working days of nine hours


def test_on_the_wall_clock_the_night_counts():
    policy = SlaPolicyConfig(name="urgent", first_response="2h", resolution="1d", clock="wall")
    first, resolution = due_times(policy, CHINA, beijing(2026, 11, 25, 23, 0))
    assert first == beijing(2026, 11, 26, 1, 0)
    assert resolution == beijing(2026, 11, 26, 23, 0)


def test_a_request_on_the_eve_of_national_day_is_due_after_the_holiday():
    policy = SlaPolicyConfig(name="orders", first_response="2h", resolution="3d")
    first, _ = due_times(policy, CHINA, beijing(2026, 9, 30, 23, 0))
    assert first == beijing(2026, 10, 8, 11, 0)


def test_the_most_specific_policy_applies():
    policies = [
        SlaPolicyConfig(name="default", first_response="8h", resolution="5d"),
        SlaPolicyConfig(name="urgent", priority="urgent", first_response="1h", resolution="1d"),
        SlaPolicyConfig(name="orders", category="order", first_response="4h", resolution="3d"),
        SlaPolicyConfig(
            name="urgent-complaints",
            priority="urgent",
            category="complaint",
            first_response="30m",
            resolution="1d",
        ),
    ]

    def pick(priority: str, category: str) -> str:
        policy = match_policy(policies, priority, category)
        assert policy is not None
        return policy.name

    assert pick("normal", "product") == "default"
    assert pick("urgent", "order") == "orders"
    assert pick("urgent", "product") == "urgent"
    assert pick("urgent", "complaint") == "urgent-complaints"
    assert match_policy(policies[1:2], "low", None) is None


# -- descriptions for acknowledgements ---------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "zh", "en"),
    [
        pytest.param(beijing(2026, 11, 25, 7, 30), "今天 09:00", "today at 09:00", id="early"),
        pytest.param(beijing(2026, 11, 25, 23, 0), "明天 09:00", "tomorrow at 09:00", id="night"),
        pytest.param(
            beijing(2026, 11, 27, 23, 0),
            "11月30日（周一）09:00",
            "Monday 30 November at 09:00",
            id="friday-night",
        ),
        pytest.param(
            beijing(2025, 12, 31, 20, 0),
            "2026年1月4日（周日）09:00",
            "Sunday 4 January 2026 at 09:00",
            id="new-year-to-a-worked-sunday",
        ),
    ],
)
def test_the_next_opening_is_described_in_the_customers_language(at, zh, en):
    assert CHINA.describe_next_opening(at, "zh") == zh
    assert CHINA.describe_next_opening(at, "zh-CN") == zh
    assert CHINA.describe_next_opening(at, "en") == en


def test_an_afternoon_shift_opens_today_at_its_own_time():
    afternoon = BusinessHours(opens=time(14, 0), closes=time(22, 0))
    assert afternoon.describe_next_opening(beijing(2026, 11, 25, 10, 0), "zh") == "今天 14:00"


# -- the [[hours]] and [[sla]] tables ----------------------------------------------------------


def test_the_default_hours_table_is_the_desks_week():
    config = HoursConfig.model_validate({"name": "default"})
    assert config.opens == time(9, 0)
    assert config.closes == time(18, 0)
    assert config.workdays == ("mon", "tue", "wed", "thu", "fri")
    assert config.calendar == "cn"
    assert config.time_zone == "Asia/Shanghai"


HOURS_CASES = [
    pytest.param({"opens": "9am"}, "invalid time '9am'", id="bad-time"),
    pytest.param({"closes": "24:00"}, "invalid time '24:00'", id="hour-24"),
    pytest.param(
        {"opens": "18:00", "closes": "09:00"}, r"closes \(09:00\) must be after", id="order"
    ),
    pytest.param({"workdays": ["mon", "funday"]}, "unknown weekday 'funday'", id="weekday"),
    pytest.param({"workdays": []}, "at least one workday", id="no-workday"),
    pytest.param({"calendar": "us"}, "unknown calendar 'us'", id="calendar"),
    pytest.param({"time_zone": "Asia/Beijing"}, "unknown time zone", id="zone"),
    pytest.param(
        {"holidays": ["2026-11-25"], "extra_workdays": ["2026-11-25"]},
        "2026-11-25 is listed both",
        id="both-lists",
    ),
    pytest.param({"opening": "09:00"}, "Extra inputs are not permitted", id="unknown-key"),
]


@pytest.mark.parametrize(("table", "message"), HOURS_CASES)
def test_bad_hours_tables_are_refused_with_a_clear_message(table, message):
    with pytest.raises(ValidationError, match=message):
        HoursConfig.model_validate({"name": "default"} | table)


def test_weekdays_may_be_written_in_full_and_any_case():
    config = HoursConfig(workdays=["Monday", "TUE", "sat"])
    assert config.business_hours().workdays == frozenset({0, 1, 5})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("0s", timedelta(0)),
        (" 1h30m ", timedelta(hours=1, minutes=30)),
        ("2H", timedelta(hours=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_durations_are_parsed(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "1.5h", "2x", "h", "30m2h", "-1h", "1 day"])
def test_bad_durations_are_refused_with_an_example(text):
    with pytest.raises(ValueError, match='invalid duration.*e.g. "30m"'):
        parse_duration(text)


def test_a_business_day_is_one_working_day():
    assert parse_duration("1d", day=CHINA.workday_length) == timedelta(hours=9)


SLA_CASES = [
    pytest.param({"first_response": "2 hours"}, "invalid duration '2 hours'", id="duration"),
    pytest.param({"first_response": "3d", "resolution": "1d"}, "not be shorter", id="order"),
    pytest.param({"clock": "office"}, "'business' or 'wall'", id="clock"),
    pytest.param({"priority": "critical"}, "'low', 'normal', 'high' or 'urgent'", id="priority"),
]


@pytest.mark.parametrize(("table", "message"), SLA_CASES)
def test_bad_sla_tables_are_refused_with_a_clear_message(table, message):
    base = {"name": "default", "first_response": "2h", "resolution": "3d"}
    with pytest.raises(ValidationError, match=message):
        SlaPolicyConfig.model_validate(base | table)


# -- the desk's day, named -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "today"),
    [
        (datetime(2026, 12, 7, 15, 59, tzinfo=UTC), date(2026, 12, 7)),
        (datetime(2026, 12, 7, 16, 0, tzinfo=UTC), date(2026, 12, 8)),
        (datetime(2026, 12, 7, 23, 59, tzinfo=UTC), date(2026, 12, 8)),
        (datetime(2026, 12, 8, 0, 0, tzinfo=UTC), date(2026, 12, 8)),
    ],
)
def test_today_is_the_desks_date_not_utcs(utc, today):
    assert HOURS.today(utc) == today
    assert HOURS.clock(utc)["today"] == today.isoformat()


def test_the_clock_says_the_zone_now_and_when_specialists_return():
    monday_2359 = datetime(2026, 12, 7, 15, 59, tzinfo=UTC)
    assert HOURS.clock(monday_2359) == {
        "time_zone": "Asia/Shanghai",
        "today": "2026-12-07",
        "now": "2026-12-07T15:59:00+00:00",
        "open": False,
        "next_opening": "2026-12-08T09:00:00+08:00",
    }


def test_a_time_for_a_reader_elsewhere_says_whose_clock_it_is():
    monday_2359 = datetime(2026, 12, 7, 15, 59, tzinfo=UTC)
    opening = HOURS.next_opening(monday_2359)
    assert HOURS.describe_with_zone(opening, monday_2359, "zh") == "明天 09:00（北京时间）"
    assert (
        HOURS.describe_with_zone(opening, monday_2359, "en") == "tomorrow at 09:00 (Beijing time)"
    )
    new_york = BusinessHours(time_zone="America/New_York")
    winter = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    assert new_york.zone_label("en", winter) == "EST (America/New_York)"
    assert new_york.zone_label("en", datetime(2026, 7, 7, tzinfo=UTC)) == "EDT (America/New_York)"
    assert BusinessHours(time_zone="Asia/Kolkata").zone_label("en", winter) == "IST (Asia/Kolkata)"
    assert BusinessHours(time_zone="Etc/GMT-3").zone_label("en", winter) == "Etc/GMT-3"
