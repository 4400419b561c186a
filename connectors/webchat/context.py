"""What every route of one chat connector shares: config, keys, the desk's ports, Redis."""

from __future__ import annotations

import asyncio
import json
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from redis.asyncio import BlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis

from connectors.webchat import origin
from connectors.webchat.config import WebchatConfig
from connectors.webchat.hub import Hub
from connectors.webchat.images import IMAGE_TYPES, AttachmentIds, Upload
from connectors.webchat.limits import RateLimiter
from connectors.webchat.token import Visitor, VisitorTokens
from omnidesk.connector import ConnectorEnv, Intake
from omnidesk.services.chat import ChatBook

PAGE_TTL_SECONDS = 86_400
REDIS_CONNECTIONS = 64  # per event loop, i.e. per API process


@dataclass
class ChatContext:
    """One chat connector's shared parts, built once when its routes are mounted."""

    config: WebchatConfig
    env: ConnectorEnv
    intake: Intake
    book: ChatBook
    tokens: VisitorTokens = field(init=False)
    attachment_ids: AttachmentIds = field(init=False)
    # redis.asyncio clients belong to one event loop; a process may run several (tests).
    _per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[AsyncRedis, Hub]] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def __post_init__(self) -> None:
        keys = self.book.signing_keys("webchat")
        self.tokens = VisitorTokens(keys, self.name, self.config.token_max_age_days)
        self.attachment_ids = AttachmentIds(keys, self.name)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def base_url(self) -> str:
        return f"{self.env.public_url.rstrip('/')}/webchat/{self.name}"

    def _loop_state(self) -> tuple[AsyncRedis, Hub]:
        loop = asyncio.get_running_loop()
        found = self._per_loop.get(loop)
        if found is None:
            if not self.env.redis_url:
                raise HTTPException(503, "live chat needs Redis (OMNIDESK_REDIS_URL)")
            # Thousands of open chats share this client: wait for a free connection rather
            # than fail when all of them are busy (the default pool raises at 100).
            pool = BlockingConnectionPool.from_url(
                self.env.redis_url, max_connections=REDIS_CONNECTIONS, timeout=10
            )
            client = AsyncRedis(connection_pool=pool)
            found = (client, Hub(client, self.name))
            self._per_loop[loop] = found
        return found

    @property
    def redis(self) -> AsyncRedis:
        return self._loop_state()[0]

    @property
    def hub(self) -> Hub:
        return self._loop_state()[1]

    @property
    def limiter(self) -> RateLimiter:
        return RateLimiter(self.redis, self.name)

    def origin_allowed(self, value: str | None) -> bool:
        return origin.allowed(value, self.config.allowed_origins, self.env.public_url)

    def check_origin(self, request: Request) -> None:
        if not self.origin_allowed(request.headers.get("origin")):
            raise HTTPException(403, "origin not allowed")

    def visitor(self, token: str | None) -> Visitor:
        found = self.tokens.read(token)
        if found is None:
            raise HTTPException(401, "visitor token not valid")
        return found

    def file_url(self, meta: dict[str, Any], visitor: Visitor, token: str) -> str | None:
        """Where the visitor's browser fetches an image of their chat (their token required)."""
        key, content_type = meta.get("storage_key"), meta.get("content_type")
        if not key or content_type not in IMAGE_TYPES:
            return None
        size, name = int(meta.get("size") or 0), meta.get("filename")
        upload = Upload(key, content_type, size, visitor.address, name)
        attachment_id = self.attachment_ids.issue(upload)
        return f"{self.base_url}/files/{attachment_id}?token={quote(token)}"

    async def save_page(self, address: str, page: dict[str, str]) -> None:
        """Remember the page the visitor chats from, for the messages they send from it."""
        key = f"omnidesk:webchat:{self.name}:page:{address}"
        await self.redis.set(key, json.dumps(page), ex=PAGE_TTL_SECONDS)

    async def page(self, address: str) -> dict[str, str]:
        raw = await self.redis.get(f"omnidesk:webchat:{self.name}:page:{address}")
        try:
            found = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return {k: str(v) for k, v in found.items() if isinstance(k, str)} if found else {}
