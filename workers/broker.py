"""Build the Redis broker from settings and bind every actor to it.

Actors are declared at import time against a placeholder StubBroker; `install` swaps in the real
broker and re-declares them, so tests and processes choose their broker explicitly.
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from omnidesk.settings import Settings
from workers.middleware import LogContext

DEFAULT_TIME_LIMIT_MS = 5 * 60 * 1000

_placeholder = StubBroker()
dramatiq.set_broker(_placeholder)


def middleware() -> list[dramatiq.Middleware]:
    """The explicit middleware list: Dramatiq's defaults plus our log context."""
    return [
        AgeLimit(),
        TimeLimit(time_limit=DEFAULT_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=5, min_backoff=1_000, max_backoff=60_000),
        LogContext(),
    ]


def build_broker(settings: Settings, redis_url: str) -> RedisBroker:
    client = redis.Redis.from_url(
        redis_url, socket_connect_timeout=2, socket_timeout=15, health_check_interval=30
    )
    return RedisBroker(
        client=client,
        middleware=middleware(),
        heartbeat_timeout=settings.broker_heartbeat_timeout_ms,
    )


def install(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make `broker` the global broker and move every declared actor onto it."""
    from workers.actors import ALL_ACTORS

    dramatiq.set_broker(broker)
    for actor in ALL_ACTORS:
        actor.broker = broker
        if actor.actor_name not in broker.actors:
            broker.declare_actor(actor)
    return broker


def stub_broker() -> StubBroker:
    """A fresh in-memory broker for unit tests."""
    broker = StubBroker(middleware=middleware())
    broker.emit_after("process_boot")
    return broker
