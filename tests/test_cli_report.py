"""`omnidesk report` from outside: a new process on the fixture log prints the same figures."""

from __future__ import annotations

import csv
import json
import os
import subprocess

import pytest
from sqlmodel import Session

from omnidesk.db import get_engine
from tests import clock
from tests.core.test_reports import EXPECTED, REPORTED_AT, build_fixture_log

pytestmark = pytest.mark.clock

NOVEMBER = ("--since", "2026-11-01", "--until", "2026-11-30")


def omnidesk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The command run at the instant the expected report was computed for."""
    return subprocess.run(
        clock.command(args, at=REPORTED_AT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(settings) -> dict[str, str]:
    with Session(get_engine(settings)) as session:
        build_fixture_log(session)
        session.commit()
    return {
        **os.environ,
        "OMNIDESK_DATABASE_URL": settings.resolved_database_url,
        "OMNIDESK_DATA_DIR": str(settings.data_dir),
        "OMNIDESK_CONFIG": str(settings.config),
        "OMNIDESK_LOG_FORMAT": "json",
    }


def test_report_json_for_november_gives_the_hand_computed_figures(env):
    result = omnidesk("report", *NOVEMBER, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED
    assert "物流" in result.stdout  # ensure_ascii=False


def test_report_filters_by_channel_from_the_command_line(env):
    result = omnidesk("report", *NOVEMBER, "--channel", "email", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["filters"]["channel"] == "email"
    assert report["volume"]["total"] == 4


def test_report_writes_a_csv_file(env, tmp_path):
    target = tmp_path / "november.csv"
    result = omnidesk("report", *NOVEMBER, "--csv", str(target), env=env)
    assert result.returncode == 0, result.stderr
    table = dict(list(csv.reader(target.open(encoding="utf-8")))[1:])
    assert table["volume.total"] == "12"
    assert table["csat.csat"] == "0.375"


def test_report_prints_readable_tables_by_default(env):
    result = omnidesk("report", *NOVEMBER, env=env)
    assert result.returncode == 0, result.stderr
    for heading in ("Volume", "Times from opening", "SLA", "Satisfaction", "Top root causes"):
        assert heading in result.stdout
    assert "courier_delay" in result.stdout


def test_report_rejects_a_date_that_is_not_iso(env):
    result = omnidesk("report", "--since", "1/11/2026", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_report_days_are_the_desks_last_days_whatever_the_hosts_zone(env):
    # At 00:30 on 8 December in Beijing (16:30 UTC on the 7th; 08:30 on the 7th in Los Angeles)
    env = {**env, "TZ": "America/Los_Angeles"}
    result = omnidesk("report", "--days", "7", "--json", env=env)
    assert result.returncode == 0, result.stderr
    period = json.loads(result.stdout)["period"]
    assert (period["first_day"], period["last_day"], period["today"]) == (
        "2026-12-02",
        "2026-12-08",
        "2026-12-08",
    )
    both = omnidesk("report", "--days", "7", "--since", "2026-12-01", env=env)
    assert both.returncode != 0
    assert "either --days or --since" in both.stderr
