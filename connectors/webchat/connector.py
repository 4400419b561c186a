"""WebchatConnector: the website chat's widget routes in, the desk's replies out over Redis."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import redis
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp

from connectors.webchat import hub, origin
from connectors.webchat.config import WebchatConfig
from connectors.webchat.context import ChatContext
from connectors.webchat.routes import static_routes, visitor_routes
from connectors.webchat.socket import socket_routes
from omnidesk.api.webhooks import PayloadTooLarge
from omnidesk.connector import ConnectorEnv, Intake
from omnidesk.errors import CannotConnect, PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply, SendResult
from omnidesk.services.chat import ChatBook


class WebchatConnector:
    """See `omnidesk.connector.ChatConnector`."""

    channel: ClassVar[str] = "webchat"
    config_class: ClassVar[type[WebchatConfig]] = WebchatConfig
    identity_kind: ClassVar[str] = "webchat"

    def __init__(self, config: WebchatConfig, env: ConnectorEnv) -> None:
        self.config = config
        self.env = env
        self._redis: redis.Redis | None = None

    def _client(self) -> redis.Redis:
        if not self.env.redis_url:
            raise PermanentSendError("no_redis", "live chat needs Redis (OMNIDESK_REDIS_URL)")
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.env.redis_url, socket_timeout=5)
        return self._redis

    def check(self) -> None:
        """See `Connector.check`: the chat's messages travel through Redis."""
        try:
            self._client().ping()
        except (redis.RedisError, PermanentSendError) as exc:
            raise CannotConnect(f"Redis unreachable: {exc}") from exc

    def send(self, reply: OutboundReply) -> SendResult:
        """See `Connector.send`. The row is the message; this tells the visitor's open sockets.

        A visitor with no socket open now gets it on their next `resume`, so nobody listening
        is no failure. Redis down is transient: the send is retried.
        """
        self.notify(reply.to, {"type": "message", "id": reply.message_id})
        return SendResult(provider_message_id=f"webchat:{reply.message_id}", status="sent")

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        """An interrupted send is sent again: the widget shows a message id once."""
        return None

    def notify(self, address: str, notice: dict[str, Any]) -> None:
        """Publish a notice to the visitor's sockets (an agent typing, a message sent)."""
        try:
            hub.publish(self._client(), self.config.name, address, notice)
        except redis.RedisError as exc:
            raise TransientError(f"Redis unreachable: {exc!r}") from exc

    def chat(self, intake: Intake, book: ChatBook) -> ASGIApp:
        """See `ChatConnector.chat`."""
        context = ChatContext(self.config, self.env, intake, book)
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.include_router(static_routes(context))
        app.include_router(visitor_routes(context))
        app.include_router(socket_routes(context))
        app.add_exception_handler(PayloadTooLarge, _too_large)
        own = origin.origin_of(self.env.public_url)
        exact = [o for o in self.config.allowed_origins if "*" not in o] + ([own] if own else [])
        app.add_middleware(
            CORSMiddleware,
            allow_origins=exact,
            allow_origin_regex=_wildcards(self.config.allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
        return app


def _wildcards(origins: tuple[str, ...]) -> str | None:
    """The CORS regex for "https://*.tp.example" origins (any depth of subdomain)."""
    patterns = []
    for pattern in origins:
        if "://*." in pattern:
            scheme, _, rest = pattern.partition("://*.")
            patterns.append(rf"{re.escape(scheme)}://([a-z0-9-]+\.)+{re.escape(rest)}")
    return "|".join(patterns) or None


async def _too_large(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "payload too large"}, status_code=413)
