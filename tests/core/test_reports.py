"""Reports over a hand-built event log: every figure is computed by hand in the comments.

The fixture: twelve requests opened in November 2026 (Asia/Shanghai, UTC+8, no DST; business
hours 09:00-18:00 Monday to Friday; November 2026 has no public holiday) and two just outside.
November 2026: Sun 1, Mon 2, Tue 3, Wed 4, Thu 5, Fri 6, Sat 7, Sun 8, Mon 9 ... Mon 30.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from omnidesk.db import get_engine
from omnidesk.models import ConnectorRecord, Customer, Event, Request, RequestStatus
from omnidesk.services.business_calendar import BusinessCalendar
from omnidesk.services.hours import BusinessHours
from omnidesk.services.report_words import low_rated_words, words_of
from omnidesk.services.reports import ReportFilter, compute, percentile
from tests.clock import AFTER_DESK_MIDNIGHT

pytestmark = pytest.mark.clock

ZONE = ZoneInfo("Asia/Shanghai")
# The reports run at 00:30 on Tuesday 8 December in Beijing, still Monday 7 December in UTC.
REPORTED_AT = AFTER_DESK_MIDNIGHT
TODAY = "2026-12-08"
HOURS = BusinessHours()  # Asia/Shanghai, 09:00-18:00, Monday-Friday
AGENT = {"kind": "agent_reply"}
ACK = {"kind": "acknowledgement"}


def at(day: int, clock: str, month: int = 11) -> datetime:
    """A local Shanghai time in 2026."""
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def survey(moment: datetime, score: int | None, comment: str | None = None) -> list[tuple]:
    sent = ("survey_sent", moment, {"channel": "same", "survey_id": f"s{moment:%m%d%H%M}"})
    if score is None:
        return [sent]
    rating = {"score": score, "comment": comment, "survey_id": sent[2]["survey_id"]}
    return [sent, ("rated", moment + timedelta(hours=1), rating)]


def tag(moment: datetime, root_cause: str) -> tuple:
    return (
        "feedback_tagged",
        moment,
        {"resolution": "fixed", "root_cause": root_cause, "note": None},
    )


@dataclass
class Case:
    """One request: its row's dimensions and due times, and its events after opening."""

    channel: str
    category: str
    team: str
    agent: str | None
    language: str
    opened: datetime
    fr_due: datetime | None
    res_due: datetime | None
    events: list[tuple] = field(default_factory=list)
    classified_as: str | None = None  # the classifier's category, when an agent changed it


CASES = {
    # FR 10:00→10:30 = 30 wall, 30 business; RES 10:00→12:00 = 120/120; both SLAs met.
    "R1": Case("email", "billing", "billing", "alice", "zh", at(2, "10:00"), at(2, "11:00"),
               at(3, "10:00"), [
        ("replied", at(2, "10:00"), ACK),
        ("replied", at(2, "10:30"), AGENT),
        ("resolved", at(2, "12:00"), {}),
        *survey(at(2, "12:05"), 5, "很快解决了，谢谢"),
        tag(at(2, "12:10"), "billing_error"),
    ]),
    # Friday 17:00 → Monday 09:30: 64h30 = 3870 wall, 60 (Fri 17-18) + 30 = 90 business.
    # RES → Monday 15:00: 70h = 4200 wall; 60 + 360 = 420 business. Both met.
    "R2": Case("wechat", "delivery", "logistics", "bob", "zh", at(6, "17:00"), at(9, "12:00"),
               at(11, "17:00"), [
        ("replied", at(6, "17:00"), ACK),
        ("replied", at(9, "09:30"), AGENT),
        ("resolved", at(9, "15:00"), {}),
        *survey(at(9, "15:05"), 2, "快递太慢了，物流信息不更新"),
        tag(at(9, "15:10"), "courier_delay"),
    ]),
    # Tuesday 22:00 (night) → Wednesday 09:15: 675 wall, 15 business. Resolved, reopened, then
    # resolved again Thursday 11:00: 37h = 2220 wall; Wed 540 + Thu 120 = 660 business. Met.
    # The first root-cause tag is replaced by a later one.
    "R3": Case("twilio", "delivery", "logistics", "bob", "zh", at(3, "22:00"), at(4, "13:00"),
               at(6, "18:00"), [
        ("replied", at(4, "09:15"), AGENT),
        ("resolved", at(4, "10:00"), {}),
        ("reopened", at(4, "14:00"), {}),
        ("resolved", at(5, "11:00"), {}),
        *survey(at(5, "11:05"), 1, "Delivery was late and the courier was rude"),
        tag(at(5, "11:10"), "other"),
        tag(at(5, "11:20"), "courier_delay"),
    ]),
    # The watchdog breached the first response at 10:00; answered 11:00: 120/120, breached.
    # Resolved Tuesday 09:00, exactly at its due time: 1440 wall, 540 business, met.
    "R4": Case("email", "complaint", "care", "chen", "en", at(2, "09:00"), at(2, "10:00"),
               at(3, "09:00"), [
        ("replied", at(2, "09:00"), ACK),
        ("sla_breached", at(2, "10:00"), {"target": "first_response"}),
        ("escalated", at(2, "10:00"), {"target": "first_response"}),
        ("replied", at(2, "11:00"), AGENT),
        ("resolved", at(3, "09:00"), {}),
        *survey(at(3, "09:05"), 2, "The courier was late again and nobody answered"),
        tag(at(3, "09:10"), "courier_delay"),
    ]),
    # Saturday 10:00 → 10:20 by a weekend agent: 20 wall, 0 business, met. Never resolved, and
    # the resolution was breached on Wednesday.
    "R5": Case("weibo", "delivery", "logistics", "bob", "zh", at(7, "10:00"), at(9, "13:00"),
               at(11, "18:00"), [
        ("replied", at(7, "10:20"), AGENT),
        ("sla_breached", at(11, "18:00"), {"target": "resolution"}),
    ]),
    # An automatic answer first (not a human response), the agent at 14:45: 45/45; RES 120/120.
    "R6": Case("webchat", "returns", "care", "alice", "en", at(10, "14:00"), at(10, "18:00"),
               at(13, "14:00"), [
        ("replied", at(10, "14:00"), {"kind": "answer"}),
        ("replied", at(10, "14:45"), AGENT),
        ("resolved", at(10, "16:00"), {}),
        *survey(at(10, "16:05"), 4, "Fine but a bit slow"),
        tag(at(10, "16:10"), "product_defect"),
    ]),
    # Wednesday 16:00 → Thursday 10:00: 1080 wall, 120 + 60 = 180 business; due Thursday 09:30,
    # so breached although the watchdog logged nothing. RES → Thursday 17:00: 1500 wall,
    # 120 + 480 = 600 business, met.
    "R7": Case("wechat", "billing", "billing", "alice", "zh", at(11, "16:00"), at(12, "09:30"),
               at(16, "16:00"), [
        ("replied", at(12, "10:00"), AGENT),
        ("resolved", at(12, "17:00"), {}),
        *survey(at(12, "17:05"), 1, "物流太慢，客服不回复"),
        tag(at(12, "17:10"), "billing_error"),
    ]),
    # Classified as delivery, recategorised as billing (the row holds billing). Only an
    # acknowledgement; the first response was breached; the resolution is still running.
    "R8": Case("email", "billing", "billing", "chen", "zh", at(12, "11:00"), at(12, "15:00"),
               at(17, "11:00"), [
        ("replied", at(12, "11:00"), ACK),
        ("recategorised", at(12, "11:30"), {"from_category": "delivery", "to_category": "billing"}),
        ("sla_breached", at(12, "15:00"), {"target": "first_response"}),
    ], classified_as="delivery"),
    # FR 30/30 met; resolved then reopened and not resolved again: no resolution time, and the
    # resolution target is still running. A survey without an answer.
    "R9": Case("twilio", "returns", "logistics", "bob", "zh", at(16, "09:30"), at(16, "13:30"),
               at(19, "09:30"), [
        ("replied", at(16, "10:00"), AGENT),
        ("resolved", at(16, "11:30"), {}),
        *survey(at(16, "11:35"), None),
        ("reopened", at(17, "09:00"), {}),
    ]),
    # The period's last day, Monday 30 17:30; answered Tuesday 1 December 09:30, exactly at its
    # due time: 16h = 960 wall, 30 + 30 = 60 business, met. RES → 12:00: 1110 wall,
    # 30 + 180 = 210 business, met. A rating of 3 without a comment.
    "R10": Case("email", "complaint", "care", "chen", "en", at(30, "17:30"), at(1, "09:30", 12),
                at(2, "17:30", 12), [
        ("replied", at(1, "09:30", 12), AGENT),
        ("resolved", at(1, "12:00", 12), {}),
        *survey(at(1, "12:05", 12), 3),
        tag(at(1, "12:10", 12), "product_defect"),
    ]),
    # Opened at the period's first instant, Sunday 1 November 00:00 (Saturday 16:00 UTC).
    # → Monday 09:00: 33h = 1980 wall, 0 business; → Monday 10:00: 2040 wall, 60 business.
    # Rated 2, then the same survey rated 5: only the latest rating counts.
    "R11": Case("webchat", "returns", "care", "alice", "zh", at(1, "00:00"), at(2, "13:00"),
                at(5, "13:00"), [
        ("replied", at(2, "09:00"), AGENT),
        ("resolved", at(2, "10:00"), {}),
        ("survey_sent", at(2, "10:05"), {"channel": "webchat", "survey_id": "s11"}),
        ("rated", at(2, "10:30"), {"score": 2, "comment": "物流太慢", "survey_id": "s11"}),
        ("rated", at(2, "11:00"), {"score": 5, "comment": "很好", "survey_id": "s11"}),
        tag(at(2, "11:10"), "product_defect"),
    ]),
    # No SLA policy, no agent, only an acknowledgement.
    "R12": Case("weibo", "delivery", "logistics", None, "zh", at(25, "10:00"), None, None, [
        ("replied", at(25, "10:00"), ACK),
    ]),
    # Outside the period: one minute before it, and at its end (the exclusive bound).
    "OUT1": Case("email", "billing", "billing", "alice", "zh", at(31, "23:59", 10),
                 at(1, "13:00"), at(3, "13:00"), [
        ("replied", at(2, "09:10"), AGENT),
        ("resolved", at(2, "09:20"), {}),
        *survey(at(2, "09:30"), 1, "物流太慢 courier late"),
        tag(at(2, "09:40"), "billing_error"),
    ]),
    "OUT2": Case("twilio", "delivery", "logistics", "bob", "zh", at(1, "00:00", 12),
                 at(1, "13:00", 12), at(3, "13:00", 12), [
        ("replied", at(1, "09:10", 12), AGENT),
        ("resolved", at(1, "09:20", 12), {}),
        ("reopened", at(1, "09:30", 12), {}),
    ]),
}  # fmt: skip


def build_fixture_log(session: Session) -> dict[str, int]:
    """Write the cases as request rows and their event log; returns each case's request id."""
    customer, connector = Customer(display_name="顾客"), ConnectorRecord(name="c", channel="x")
    session.add_all([customer, connector])
    session.flush()
    ids = {}
    for key, case in CASES.items():
        request = Request(
            customer_id=customer.id, connector_id=connector.id, channel=case.channel,
            category=case.category, team=case.team, assignee=case.agent, language=case.language,
            status=RequestStatus.OPEN, created_at=case.opened, first_response_due=case.fr_due,
            resolution_due=case.res_due, subject=key,
        )  # fmt: skip
        session.add(request)
        session.flush()
        ids[key] = request.id
        for kind, moment, data in _opening(case) + case.events:
            session.add(Event(request_id=request.id, kind=kind, at=moment, data=data))
    session.flush()
    return ids


def _opening(case: Case) -> list[tuple]:
    category = case.classified_as or case.category
    return [
        ("request_opened", case.opened, {"channel": case.channel}),
        ("classified", case.opened, {"category": category,
                                     "language": case.language, "priority": "normal"}),
        ("routed", case.opened, {"team": case.team}),
        ("assigned", case.opened, {"assignee": case.agent}),
    ]  # fmt: skip


NOVEMBER = ReportFilter.for_days(date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai")

EXPECTED: dict[str, Any] = {
    "period": {
        "since": "2026-11-01T00:00:00+08:00",
        "until": "2026-12-01T00:00:00+08:00",  # --until 2026-11-30 includes the 30th
        "time_zone": "Asia/Shanghai",
        "today": TODAY,  # the desk's date when the report ran, not UTC's 7 December
        "first_day": "2026-11-01",
        "last_day": "2026-11-30",
        "days": [f"2026-11-{day:02d}" for day in range(1, 31)],
    },
    "filters": {"channel": None, "category": None, "team": None, "agent": None, "language": None},
    "volume": {
        "total": 12,  # R1-R12; OUT1 (31 Oct 23:59) and OUT2 (1 Dec 00:00) are outside
        # email R1 R4 R8 R10; twilio R3 R9; webchat R6 R11; wechat R2 R7; weibo R5 R12
        "by_channel": {"email": 4, "twilio": 2, "webchat": 2, "wechat": 2, "weibo": 2},
        # billing R1 R7 R8 (recategorised); delivery R2 R3 R5 R12; returns R6 R9 R11; R4 R10
        "by_category": {"delivery": 4, "billing": 3, "returns": 3, "complaint": 2},
        # by local date: R3 opened Tue 3 22:00 local (14:00 UTC), R11 Sun 1 00:00 local
        "by_day": {
            "2026-11-01": 1,
            "2026-11-02": 2,
            "2026-11-03": 1,
            "2026-11-06": 1,
            "2026-11-07": 1,
            "2026-11-10": 1,
            "2026-11-11": 1,
            "2026-11-12": 1,
            "2026-11-16": 1,
            "2026-11-25": 1,
            "2026-11-30": 1,
        },  # fmt: skip
    },
    # Ten human first responses (R8, R12 have none). Linear interpolation, h = (n - 1)p:
    # wall sorted 20 30 30 45 120 675 960 1080 1980 3870
    #   median h=4.5: 120 + 0.5 × (675 - 120) = 397.5;  p90 h=8.1: 1980 + 0.1 × 1890 = 2169
    # business sorted 0 0 15 30 30 45 60 90 120 180
    #   median: 30 + 0.5 × 15 = 37.5;  p90: 120 + 0.1 × 60 = 126
    "first_response": {
        "count": 10,
        "median_minutes": 397.5,
        "p90_minutes": 2169.0,
        "business_median_minutes": 37.5,
        "business_p90_minutes": 126.0,
    },
    # Eight resolved (R5, R8, R12 never; R9 reopened after its resolution):
    # wall sorted 120 120 1110 1440 1500 2040 2220 4200
    #   median h=3.5: 1440 + 0.5 × 60 = 1470;  p90 h=6.3: 2220 + 0.3 × 1980 = 2814
    # business sorted 60 120 120 210 420 540 600 660
    #   median: 210 + 0.5 × 210 = 315;  p90: 600 + 0.3 × 60 = 618
    "resolution": {
        "count": 8,
        "median_minutes": 1470.0,
        "p90_minutes": 2814.0,
        "business_median_minutes": 315.0,
        "business_p90_minutes": 618.0,
    },
    "sla": {
        # met R1 R2 R3 R5 R6 R9 R10 R11 = 8; breached R4 (event), R7 (late), R8 (event) = 3;
        # R12 has no target. 8 / 11 = 0.72727
        "first_response": {"met": 8, "breached": 3, "attainment": 0.7273},
        # met R1 R2 R3 R4 R6 R7 R10 R11 = 8; breached R5 = 1; R8 R9 running. 8 / 9 = 0.88889
        "resolution": {"met": 8, "breached": 1, "attainment": 0.8889},
    },
    # sent: R1 R2 R3 R4 R6 R7 R9 R10 R11 = 9; responses (latest per survey): R1 5, R2 2, R3 1,
    # R4 2, R6 4, R7 1, R10 3, R11 5 = 8 → 8 / 9 = 0.88889; average 23 / 8 = 2.875;
    # 4-5: R1 R6 R11 = 3 / 8 = 0.375
    "csat": {
        "surveys_sent": 9,
        "responses": 8,
        "response_rate": 0.8889,
        "score_avg": 2.88,
        "csat": 0.375,
    },
    # reopened R3 R9 = 2; resolved at least once R1 R2 R3 R4 R6 R7 R9 R10 R11 = 9 → 0.22222
    "reopen_rate": 0.2222,
    # latest tag per request: courier_delay R2 R3 R4; product_defect R6 R10 R11; billing R1 R7
    "root_causes": [
        {"root_cause": "courier_delay", "count": 3},
        {"root_cause": "product_defect", "count": 3},
        {"root_cause": "billing_error", "count": 2},
    ],
    # comments scored 1-2: R2 快递太慢了，物流信息不更新 · R3 Delivery was late and the courier
    # was rude · R4 The courier was late again and nobody answered · R7 物流太慢，客服不回复
    # (R11's superseded 物流太慢 and OUT1 do not count). In two comments: courier, late, 太慢, 物流.
    "low_rated_words": [
        {"word": "courier", "count": 2},
        {"word": "late", "count": 2},
        {"word": "太慢", "count": 2},
        {"word": "物流", "count": 2},
    ],
}


@pytest.fixture(autouse=True)
def reported_at() -> Iterator[None]:
    with time_machine.travel(REPORTED_AT, tick=False):
        yield


@pytest.fixture
def session(settings):
    with Session(get_engine(settings), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def fixture_log(session) -> dict[str, int]:
    ids = build_fixture_log(session)
    session.commit()
    return ids


def test_the_november_report_gives_the_hand_computed_figures(session, fixture_log):
    assert compute(session, NOVEMBER, HOURS).to_dict() == EXPECTED


def test_a_channel_filter_keeps_only_that_channels_requests(session, fixture_log):
    report = compute(session, _november(channel="email"), HOURS).to_dict()
    assert report["filters"]["channel"] == "email"
    # R1 R4 R8 R10; first responses wall 30 120 960: median 120, p90 h=1.8: 120 + 0.8 × 840
    # = 792; business 30 60 120: median 60, p90 60 + 0.8 × 60 = 108
    assert report["volume"]["total"] == 4
    assert report["first_response"] == {
        "count": 3,
        "median_minutes": 120.0,
        "p90_minutes": 792.0,
        "business_median_minutes": 60.0,
        "business_p90_minutes": 108.0,
    }
    # R4 breached, R8 breached, R1 R10 met
    assert report["sla"]["first_response"] == {"met": 2, "breached": 2, "attainment": 0.5}


def test_a_recategorised_request_counts_in_its_new_category(session, fixture_log):
    report = compute(session, _november(category="billing"), HOURS).to_dict()
    assert report["volume"]["by_category"] == {"billing": 3}  # R1 R7 R8
    assert report["volume"]["by_channel"] == {"email": 2, "wechat": 1}


@pytest.mark.parametrize(
    ("dimension", "value", "total", "expected_csat"),
    [
        # bob: R2 R3 R5 R9; rated R2 2, R3 1 → csat 0
        ("agent", "bob", 4, {"surveys_sent": 3, "responses": 2, "response_rate": 0.6667,
                             "score_avg": 1.5, "csat": 0.0}),
        # care: R4 R6 R10 R11; rated 2, 4, 3, 5 → average 3.5, csat 2 / 4
        ("team", "care", 4, {"surveys_sent": 4, "responses": 4, "response_rate": 1.0,
                             "score_avg": 3.5, "csat": 0.5}),
        # en: R4 R6 R10; rated 2, 4, 3 → average 3, csat 1 / 3
        ("language", "en", 3, {"surveys_sent": 3, "responses": 3, "response_rate": 1.0,
                               "score_avg": 3.0, "csat": 0.3333}),
    ],
    ids=["agent", "team", "language"],
)  # fmt: skip
def test_agent_team_and_language_filters_select_their_requests(
    session, fixture_log, dimension, value, total, expected_csat
):
    report = compute(session, _november(**{dimension: value}), HOURS).to_dict()
    assert report["volume"]["total"] == total
    assert report["csat"] == expected_csat


def test_an_open_period_covers_the_whole_log(session, fixture_log):
    report = compute(session, ReportFilter(), HOURS).to_dict()
    assert report["volume"]["total"] == 14
    assert report["period"] == {
        "since": None,
        "until": None,
        "time_zone": "Asia/Shanghai",
        "today": TODAY,
        "first_day": None,
        "last_day": None,
        "days": [],
    }
    # OUT2 was resolved and reopened, OUT1 only resolved: (2 + 1) / (9 + 2)
    assert report["reopen_rate"] == round(3 / 11, 4)


def test_a_period_without_requests_reports_zeros_and_nones(session, fixture_log):
    empty = ReportFilter.for_days(date(2025, 1, 1), date(2025, 1, 31), "Asia/Shanghai")
    report = compute(session, empty, HOURS).to_dict()
    assert report["volume"] == {"total": 0, "by_channel": {}, "by_category": {}, "by_day": {}}
    assert report["first_response"]["median_minutes"] is None
    assert report["sla"]["resolution"] == {"met": 0, "breached": 0, "attainment": None}
    assert report["csat"]["response_rate"] is None
    assert report["reopen_rate"] is None
    assert report["root_causes"] == []
    assert report["low_rated_words"] == []


def test_the_csv_is_a_flat_metric_value_table(session, fixture_log):
    rows = list(csv.reader(io.StringIO(compute(session, NOVEMBER, HOURS).to_csv())))
    table = dict(rows[1:])
    assert rows[0] == ["metric", "value"]
    assert table["volume.total"] == "12"
    assert table["volume.by_day.2026-11-02"] == "2"
    assert table["first_response.business_median_minutes"] == "37.5"
    assert table["sla.resolution.attainment"] == "0.8889"
    assert table["root_causes.courier_delay"] == "3"
    assert table["low_rated_words.物流"] == "2"
    assert table["filters.channel"] == ""


def test_a_date_period_runs_from_midnight_to_the_end_of_the_last_day_in_the_desk_zone():
    flt = ReportFilter.for_days(date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai")
    assert flt.since == datetime(2026, 11, 1, tzinfo=ZONE)
    assert flt.until == datetime(2026, 12, 1, tzinfo=ZONE)
    with pytest.raises(ValueError, match="no time zone"):
        ReportFilter(since=datetime(2026, 11, 1))


# -- business time, percentiles, words ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "wall", "business"),
    [
        (at(3, "22:00"), at(4, "09:15"), 675, 15),  # across a night
        (at(6, "17:00"), at(9, "09:30"), 3870, 90),  # across a weekend
        (at(7, "10:00"), at(7, "10:20"), 20, 0),  # within a weekend
        (at(1, "00:00"), at(2, "09:00"), 1980, 0),  # from Sunday midnight to Monday's opening
        (at(2, "12:00"), at(2, "12:00"), 0, 0),
        (at(30, "17:30"), at(1, "12:00", 12), 1110, 210),  # across a month end
    ],
    ids=["night", "weekend", "within-weekend", "to-opening", "zero", "month-end"],
)
def test_business_time_skips_nights_and_weekends_and_matches_business_hours(
    start, end, wall, business
):
    calendar = BusinessCalendar.build(HOURS, date(2026, 10, 31), date(2026, 12, 2))
    s, e = start.timestamp(), end.timestamp()
    assert (e - s) / 60 == wall
    assert (calendar.seconds(e) - calendar.seconds(s)) / 60 == business
    assert HOURS.business_duration(start, end) == timedelta(minutes=business)


def test_business_time_follows_holidays_and_a_dst_change():
    # America/New_York: DST ends Sunday 1 November 2026; Thanksgiving is a holiday.
    hours = BusinessHours(time_zone="America/New_York", holidays=frozenset({date(2026, 11, 26)}))
    zone = ZoneInfo("America/New_York")
    calendar = BusinessCalendar.build(hours, date(2026, 10, 28), date(2026, 11, 30))
    moments = [datetime(2026, 10, 28, 8, tzinfo=zone) + timedelta(hours=7 * n) for n in range(110)]
    for start, end in zip(moments, moments[3:], strict=False):
        business = calendar.seconds(end.timestamp()) - calendar.seconds(start.timestamp())
        assert business == hours.business_duration(start, end).total_seconds()


def test_percentiles_interpolate_linearly_between_closest_ranks():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 10.0], 0.9) == pytest.approx(7.6)  # 4 + 0.6 × 6
    assert percentile([10.0, 20.0], 0.5) == 15.0


def test_low_rated_words_are_english_words_and_chinese_bigrams_in_two_comments():
    assert words_of("The courier was LATE, again!") == {"courier", "late"}
    assert words_of("快递太慢了") == {"快递", "递太", "太慢"}  # 慢了 holds a particle
    assert words_of("差") == {"差"}
    comments = ["快递太慢了", "物流太慢", "courier late", "Late courier", "fine"]
    assert low_rated_words(comments) == [
        {"word": "courier", "count": 2},
        {"word": "late", "count": 2},
        {"word": "太慢", "count": 2},
    ]


# -- the API --------------------------------------------------------------------------------


def test_the_api_serves_the_report_as_json_and_csv(settings, fixture_log):
    from types import SimpleNamespace

    from omnidesk.api.deps import current_agent
    from omnidesk.api.routes import reports
    from omnidesk.config_file import load
    from omnidesk.models import Role

    app = FastAPI()
    app.state.settings = settings
    app.state.desk = SimpleNamespace(config=load(settings.config))
    app.include_router(reports.router, prefix="/api/v1")
    app.dependency_overrides[current_agent] = lambda: SimpleNamespace(role=Role.SUPERVISOR)
    with TestClient(app) as http:
        query = {"since": "2026-11-01", "until": "2026-11-30"}
        assert http.get("/api/v1/reports", params=query).json() == EXPECTED
        exported = http.get("/api/v1/reports.csv", params={**query, "channel": "email"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert "volume.total,4" in exported.text.splitlines()


def test_the_api_refuses_agents_who_are_not_supervisors(settings):
    from types import SimpleNamespace

    from omnidesk.api.deps import current_agent
    from omnidesk.api.routes import reports
    from omnidesk.models import Role

    app = FastAPI()
    app.state.settings = settings
    app.include_router(reports.router, prefix="/api/v1")
    app.dependency_overrides[current_agent] = lambda: SimpleNamespace(role=Role.AGENT)
    with TestClient(app) as http:
        assert http.get("/api/v1/reports").status_code == 403


def _november(**dimensions: str) -> ReportFilter:
    return ReportFilter.for_days(
        date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai", **dimensions
    )


# -- the desk's days, whatever the clock and zone ------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "today", "first"),
    [
        (datetime(2026, 12, 7, 15, 59, tzinfo=UTC), "2026-12-07", "2026-12-01"),  # 23:59 desk
        (datetime(2026, 12, 7, 16, 1, tzinfo=UTC), "2026-12-08", "2026-12-02"),  # desk's midnight
        (datetime(2026, 12, 7, 23, 59, tzinfo=UTC), "2026-12-08", "2026-12-02"),  # UTC's midnight
    ],
)
def test_the_last_days_end_with_the_desks_today_not_utcs(settings, instant, today, first):
    from types import SimpleNamespace

    from omnidesk.api.deps import current_agent
    from omnidesk.api.routes import reports
    from omnidesk.config_file import load
    from omnidesk.models import Role

    app = FastAPI()
    app.state.settings = settings
    app.state.desk = SimpleNamespace(config=load(settings.config))
    app.include_router(reports.router, prefix="/api/v1")
    app.dependency_overrides[current_agent] = lambda: SimpleNamespace(role=Role.SUPERVISOR)
    with time_machine.travel(instant, tick=False), TestClient(app) as http:
        period = http.get("/api/v1/reports", params={"days": 7}).json()["period"]
        both = http.get("/api/v1/reports", params={"days": 7, "since": "2026-12-01"})
        exported = http.get("/api/v1/reports.csv", params={"days": 7})
    assert period["today"] == today
    assert period["last_day"] == today
    assert period["first_day"] == first
    assert len(period["days"]) == 7
    assert period["since"] == f"{first}T00:00:00+08:00"
    assert both.status_code == 422
    disposition = exported.headers["content-disposition"]
    assert f'filename="omnidesk-report-{first}-{today}.csv"' in disposition
    assert f"period.today,{today}" in exported.text.splitlines()
