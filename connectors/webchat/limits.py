"""Rate limits in Redis: fixed windows shared by every API process (per visitor, per IP)."""

from __future__ import annotations

import time

from redis.asyncio import Redis

PREFIX = "omnidesk:webchat:limit"


class RateLimiter:
    """Counts hits per key in fixed windows; `hit` answers how long to wait when over."""

    def __init__(self, redis: Redis, connector: str) -> None:
        self.redis = redis
        self.connector = connector

    async def hit(self, kind: str, who: str, limit: int, window_seconds: int) -> int | None:
        """Count one hit; None when within `limit` per window, else seconds until it resets."""
        slot = int(time.time() // window_seconds)
        key = f"{PREFIX}:{self.connector}:{kind}:{who}:{slot}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1)
            count, _ = await pipe.execute()
        if int(count) <= limit:
            return None
        return max(1, int((slot + 1) * window_seconds - time.time()) + 1)
