"""The raw baseline for benchmarks/pipeline.py: a Dramatiq chain of no-op actors with as many hops
as omnidesk's pipeline (five stages and the send), on the same Redis, counting finished chains."""

from __future__ import annotations

import os

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

HOPS = ("ingest", "classify", "route", "respond", "record", "send")
URL = os.environ["OMNIDESK_REDIS_URL"]
COUNTER = "bench:noop:done"

broker = RedisBroker(url=URL, namespace="bench-noop")
dramatiq.set_broker(broker)
_client = redis.Redis.from_url(URL)


def _make(index: int) -> dramatiq.Actor:
    def hop(n: int) -> None:
        if index + 1 < len(HOPS):
            ACTORS[index + 1].send(n)
        else:
            _client.incr(COUNTER)

    hop.__name__ = f"noop_{HOPS[index]}"
    return dramatiq.actor(hop, queue_name=f"noop-{HOPS[index]}")


ACTORS: list[dramatiq.Actor] = [_make(i) for i in range(len(HOPS))]
