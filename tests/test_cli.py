"""The `omnidesk` command from outside: new process, environment, exit codes, JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import psutil
import pytest
from sqlmodel import Session, select

from fakes.twilio import post_webhook, sms_params
from omnidesk.db import get_engine
from omnidesk.models import Message
from tests.factories import TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN, twilio_toml, wait_until
from tests.live import free_port


def omnidesk(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "omnidesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "OMNIDESK_DATABASE_URL": settings.resolved_database_url,
        "OMNIDESK_DATA_DIR": str(settings.data_dir),
        "OMNIDESK_CONFIG": str(settings.config),
        "OMNIDESK_MODEL_DIR": str(settings.triage_model_dir),
        "OMNIDESK_LOG_FORMAT": "json",
    }


def test_db_upgrade_and_an_empty_request_list(env):
    assert omnidesk("db", "upgrade", env=env).returncode == 0
    listed = omnidesk("requests", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_showing_a_missing_request_fails_with_a_clear_message(env):
    shown = omnidesk("requests", "show", "999", "--json", env=env)
    assert shown.returncode == 1
    assert "no request #999" in shown.stderr


def test_a_bad_config_file_stops_up_with_every_error(env, settings):
    settings.config.write_text(twilio_toml("http://127.0.0.1:1").replace('"+15005550006"', '"bad"'))
    result = omnidesk("up", "--port", str(free_port()), env={**env, "TWILIO_AUTH_TOKEN": "t"})
    assert result.returncode == 2
    assert "connectors[0] (tp-sms).from_number" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.embedded_only
@pytest.mark.slow
def test_up_runs_the_whole_desk_on_embedded_defaults_and_stops_on_sigterm(
    env, settings, fake_twilio, tmp_path
):
    # Given no Redis URL: omnidesk starts its own embedded Redis
    port = free_port()
    settings.config.write_text(twilio_toml(fake_twilio.base_url))
    run_env = {
        **env,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "OMNIDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    run_env.pop("OMNIDESK_REDIS_URL", None)
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115
    up = subprocess.Popen(
        [sys.executable, "-m", "omnidesk", "up", "--port", str(port)],
        env=run_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: _healthy(port), timeout=60, interval=0.2)
        url = f"http://127.0.0.1:{port}/webhooks/tp-sms/sms"
        params = sms_params(TWILIO_SID, "+8613800138000", TWILIO_NUMBER, "请问退货地址是哪里？")
        assert post_webhook(url, TWILIO_TOKEN, params).status_code == 200
        wait_until(lambda: fake_twilio.messages, timeout=60)
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "up.log").read_text()[-3000:]
    listed = json.loads(omnidesk("requests", "list", "--json", env=env).stdout)
    assert [r["category"] for r in listed] == ["after_sales"]
    assert fake_twilio.messages[0]["to"] == "+8613800138000"
    leftover = subprocess.run(["pgrep", "-g", str(up.pid)], capture_output=True, check=False)
    assert leftover.stdout == b""


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_api_with_two_workers_serves_webhooks_from_two_processes(env, settings, tmp_path):
    # Given the API started as two processes sharing one port (Redis from the test run)
    port = free_port()
    settings.config.write_text(twilio_toml("http://127.0.0.1:1"))
    run_env = {
        **env,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "OMNIDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "OMNIDESK_REDIS_URL": settings.redis_url,
    }
    assert omnidesk("db", "upgrade", env=run_env).returncode == 0
    log = open(tmp_path / "api.log", "wb")  # noqa: SIM115
    api = subprocess.Popen(
        [sys.executable, "-m", "omnidesk", "api", "--port", str(port), "--workers", "2"],
        env=run_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: _healthy(port), timeout=60, interval=0.2)
        workers = [" ".join(_cmdline(c)) for c in psutil.Process(api.pid).children()]
        # When customers write, each webhook is accepted and stored once
        url = f"http://127.0.0.1:{port}/webhooks/tp-sms/sms"
        for n in range(6):
            params = sms_params(TWILIO_SID, f"+861380013800{n}", TWILIO_NUMBER, f"你好 {n}")
            assert post_webhook(url, TWILIO_TOKEN, params).status_code == 200
    finally:
        api.send_signal(signal.SIGTERM)
        code = api.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "api.log").read_text()[-3000:]
    # Then two worker processes served them
    assert len([w for w in workers if "spawn_main" in w]) == 2, workers
    with Session(get_engine(settings)) as session:  # no worker runs: stored, queued
        texts = sorted(m.text for m in session.exec(select(Message)))
    assert texts == [f"你好 {n}" for n in range(6)]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # a helper that already exited
        return []
