"""Live delivery between processes: Redis pub/sub from the send worker to the visitor's socket.

The send worker (another process, maybe another machine) publishes a small notice on the
visitor's channel `omnidesk:webchat:{connector}:{address}`; each API process holds one pattern
subscription per connector and event loop, however many sockets it serves, and hands the notice
to the sockets of that visitor. The notice carries the message id only: the socket reads the row,
so a pushed message and a resumed one are the same frame. Pub/sub forgets what nobody hears;
the database does not, and `resume` brings back what a visitor missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import redis
import structlog
from redis.asyncio import Redis as AsyncRedis

log = structlog.get_logger(__name__)

PREFIX = "omnidesk:webchat"
QUEUE_SIZE = 100
RETRY_SECONDS = 1.0


def channel(connector: str, address: str) -> str:
    return f"{PREFIX}:{connector}:{address}"


def publish(client: redis.Redis, connector: str, address: str, notice: dict[str, Any]) -> int:
    """Tell the visitor's sockets (any process); returns how many processes listened."""
    return int(client.publish(channel(connector, address), json.dumps(notice)))


class Hub:
    """One process's (one event loop's) subscription for a connector, fanned out to sockets."""

    def __init__(self, client: AsyncRedis, connector: str) -> None:
        self.client = client
        self.connector = connector
        self.prefix = f"{PREFIX}:{connector}:"
        self.sockets: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def listen(self, address: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue of the notices for this visitor; subscribed before it returns."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.sockets.setdefault(address, set()).add(queue)
        if self._task is None or self._task.done():
            self._ready.clear()
            self._task = asyncio.get_running_loop().create_task(self._run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=5)
        return queue

    def leave(self, address: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        queues = self.sockets.get(address)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.sockets[address]

    async def _run(self) -> None:
        while self.sockets:
            try:
                await self._subscribe_and_read()
            except (redis.RedisError, OSError) as exc:
                log.warning("webchat_hub_lost", connector=self.connector, error=str(exc))
                self._ready.clear()
                await asyncio.sleep(RETRY_SECONDS)

    async def _subscribe_and_read(self) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(f"{self.prefix}*")
            self._ready.set()
            while self.sockets:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._deliver(message)
        finally:
            with contextlib.suppress(redis.RedisError, OSError):
                await pubsub.aclose()

    def _deliver(self, message: dict[str, Any]) -> None:
        name = message.get("channel")
        name = name.decode() if isinstance(name, bytes) else str(name)
        address = name.removeprefix(self.prefix)
        try:
            notice = json.loads(message.get("data") or b"")
        except ValueError:
            return
        for queue in list(self.sockets.get(address, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck socket; it resumes later
                queue.put_nowait(notice)
