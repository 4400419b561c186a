"""Scheduled jobs: the sweeper actor and the loop that enqueues it once per tick cluster-wide."""

from __future__ import annotations

import threading
import time

import dramatiq
import redis
import structlog

from omnidesk.db import unit_of_work
from omnidesk.services import sweep
from workers import runtime
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


class Scheduler(threading.Thread):
    """Enqueues each periodic job once per interval, however many worker machines run it.

    A Redis `SET NX PX` per (job, tick) elects one enqueuer per tick; the job itself is idempotent.
    """

    def __init__(
        self, redis_url: str, interval: float, jobs: list[dramatiq.Actor] | None = None
    ) -> None:
        super().__init__(name="omnidesk-scheduler", daemon=True)
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.interval = interval
        self.jobs = jobs if jobs is not None else [sweep_stuck]
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.tick()
            self.stopping.wait(self.interval)

    def tick(self) -> None:
        slot = int(time.time() // self.interval)
        for job in self.jobs:
            key = f"omnidesk:schedule:{job.actor_name}:{slot}"
            try:
                if self.client.set(key, "1", nx=True, px=int(self.interval * 2000)):
                    job.send()
            except redis.RedisError as exc:
                log.warning("schedule_failed", job=job.actor_name, error=str(exc))

    def stop(self) -> None:
        self.stopping.set()
