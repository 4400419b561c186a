"""Durability: a killed worker or a Redis outage delays messages, loses or doubles none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlmodel import Session, select

from omnidesk.db import get_engine
from omnidesk.models import DeliveryStatus, Direction, Message, Stage
from tests.factories import TWILIO_TOKEN, post_sms, wait_until

pytestmark = pytest.mark.slow


def _worker_env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "OMNIDESK_DATABASE_URL": settings.resolved_database_url,
        "OMNIDESK_REDIS_URL": settings.redis_url,
        "OMNIDESK_CONFIG": str(settings.config),
        "OMNIDESK_DATA_DIR": str(settings.data_dir),
        "OMNIDESK_MODEL_DIR": str(settings.triage_model_dir),
        "OMNIDESK_PUBLIC_URL": settings.public_url,
        "OMNIDESK_STUCK_AFTER_SECONDS": "2",
        "OMNIDESK_SWEEP_INTERVAL_SECONDS": "0.5",
        "OMNIDESK_BROKER_HEARTBEAT_TIMEOUT_MS": "2000",
        "OMNIDESK_SEND_MIN_BACKOFF_MS": "50",
        "OMNIDESK_LOG_FORMAT": "json",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    }


def _start_worker(settings, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "omnidesk", "worker", "--processes", "1", "--threads", "4"],
        env=_worker_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _counts(settings) -> tuple[int, int]:
    with Session(get_engine(settings)) as session:
        inbound = session.exec(select(Message).where(Message.direction == Direction.INBOUND)).all()
    return len(inbound), sum(m.stage == Stage.DONE for m in inbound)


def _sent(settings) -> int:
    with Session(get_engine(settings)) as session:
        outbound = session.exec(
            select(Message).where(Message.direction == Direction.OUTBOUND)
        ).all()
    return sum(m.status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED) for m in outbound)


def test_worker_killed_mid_pipeline_loses_and_doubles_nothing(
    twilio_desk, client, broker, fake_twilio, tmp_path
):
    customers = [f"+86139{n:08d}" for n in range(30)]
    # Given slow replies, so the kill lands while sends and stages are in flight
    fake_twilio.hang_next(0.3, count=len(customers))
    for number in customers:
        assert (
            post_sms(client, f"订单 {number[-6:]} 什么时候到？", sender=number).status_code == 200
        )

    with open(tmp_path / "worker.log", "ab") as log:
        first = _start_worker(twilio_desk, log)
        wait_until(lambda: len(fake_twilio.messages) >= 5, timeout=60)
        # When the worker is killed without warning
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        assert _sent(twilio_desk) < len(customers), "the kill came too late to prove anything"
        # And started again
        second = _start_worker(twilio_desk, log)
        try:
            wait_until(lambda: _counts(twilio_desk) == (len(customers), len(customers)), timeout=90)
            wait_until(lambda: _sent(twilio_desk) == len(customers), timeout=60)
            time.sleep(3)  # a late duplicate would show up here
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(timeout=30)

    # Then every customer got exactly one acknowledgement
    recipients = sorted(m["to"] for m in fake_twilio.messages)
    assert recipients == sorted(customers)


def test_webhooks_are_answered_while_redis_is_down_and_processed_after(
    twilio_desk, client, worker, fake_twilio, redis_srv
):
    from workers.schedule import sweep_stuck

    redis_srv.stop()
    try:
        started = time.monotonic()
        responses = [post_sms(client, f"hello {n}", sender=f"+86137{n:08d}") for n in range(3)]
        elapsed = time.monotonic() - started
    finally:
        redis_srv.start()
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert elapsed < 15, "a webhook must not wait for the broker"
    assert _counts(twilio_desk) == (3, 0)

    # The sweeper finds the messages whose enqueue was lost and sends them on.
    def swept() -> bool:
        sweep_stuck.send()
        return _counts(twilio_desk) == (3, 3) and len(fake_twilio.messages) == 3

    wait_until(swept, timeout=60, interval=1.0)
