"""Scheduled jobs: the sweeper actor and the loop that enqueues it once per tick cluster-wide."""

from __future__ import annotations

import threading
import time

import dramatiq
import redis
import structlog

from omnidesk.db import read_session, unit_of_work
from omnidesk.services import sweep
from omnidesk.settings import Settings
from workers import feedback, runtime
from workers.dispatch import dispatch_all

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="schedule", max_retries=0)
def sweep_stuck() -> None:
    """Re-enqueue messages stuck in a stage and replies stuck in sending (contract §2)."""
    settings = runtime.settings()
    with unit_of_work(settings) as session:
        tasks = sweep.find_stuck(session, runtime.stuck_after(), settings.max_recoveries)
    if tasks:
        log.info("stuck_recovered", count=len(tasks))
    dispatch_all(tasks)


@dramatiq.actor(queue_name="schedule", max_retries=0, time_limit=30 * 60 * 1000)
def retrain_classifier() -> None:
    """Retrain on the agents' corrections when there are new ones; activate only if not worse."""
    from omnidesk.services import corrections
    from omnidesk.triage.config import load_config

    settings = runtime.settings()
    with read_session(settings) as session:
        if corrections.untrained(session) == 0:
            return
    result = corrections.retrain_with_corrections(
        settings, settings.triage_model_dir, load_config()
    )
    log.info("classifier_retrained", version=result.version, activated=result.activated)


@dramatiq.actor(queue_name="schedule", max_retries=0)
def watch_sla() -> None:
    """Warn before SLA breaches and escalate after them (services.sla.watch)."""
    from omnidesk.services import sla

    with unit_of_work(runtime.settings()) as session:
        escalated = sla.watch(session, runtime.desk().config)
    if escalated:
        log.info("sla_escalated", requests=escalated)


def default_jobs(settings: Settings) -> list[tuple[dramatiq.Actor, float]]:
    return [
        (sweep_stuck, settings.sweep_interval_seconds),
        (watch_sla, settings.sla_watch_interval_seconds),
        (retrain_classifier, settings.retrain_interval_seconds),
        *feedback.jobs(settings),
    ]


class Scheduler(threading.Thread):
    """Enqueues each periodic job once per its interval, however many worker machines run it.

    A Redis `SET NX PX` per (job, tick) elects one enqueuer per tick; the jobs are idempotent.
    """

    def __init__(self, redis_url: str, jobs: list[tuple[dramatiq.Actor, float]]) -> None:
        super().__init__(name="omnidesk-scheduler", daemon=True)
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.jobs = jobs
        self.stopping = threading.Event()

    def run(self) -> None:
        step = min(interval for _, interval in self.jobs)
        while not self.stopping.is_set():
            self.tick()
            self.stopping.wait(min(step, 1.0))

    def tick(self) -> None:
        now = time.time()
        for job, interval in self.jobs:
            key = f"omnidesk:schedule:{job.actor_name}:{int(now // interval)}"
            try:
                if self.client.set(key, "1", nx=True, px=int(interval * 2000)):
                    job.send()
            except redis.RedisError as exc:
                log.warning("schedule_failed", job=job.actor_name, error=str(exc))

    def stop(self) -> None:
        self.stopping.set()
