"""/webhooks/{name}/…: hand each provider call to its connector's own routes, with a body cap."""

from __future__ import annotations

import json
import threading
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from omnidesk.connector import Connector, Intake, WebhookConnector
from omnidesk.desk import Desk
from omnidesk.errors import BadPayload, SignatureError

log = structlog.get_logger(__name__)


class WebhookRouter:
    """An ASGI app: finds the connector by name and forwards to its router (built once)."""

    def __init__(self, desk: Desk, intake: Intake, max_body_bytes: int) -> None:
        self.desk = desk
        self.intake = intake
        self.max_body_bytes = max_body_bytes
        self._apps: dict[str, tuple[Connector, FastAPI]] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"][len(scope.get("root_path", "")) :]
        name, _, rest = path.lstrip("/").partition("/")
        app = self._app_for(name)
        if app is None:
            await _answer(send, 404, {"detail": f"no connector named {name!r} takes webhooks"})
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _answer(send, 413, {"detail": "payload too large"})
            return
        child = dict(scope)
        child["omnidesk.original_path"] = scope["path"]
        child["root_path"] = scope.get("root_path", "") + f"/{name}"
        if not rest and not path.endswith("/"):
            child["path"] = scope["path"] + "/"
        await app(child, self._capped(receive, send), send)

    def _app_for(self, name: str) -> FastAPI | None:
        connector = self.desk.connector(name)
        if not isinstance(connector, WebhookConnector) or not connector.config.enabled:
            return None
        with self._lock:
            cached = self._apps.get(name)
            if cached is None or cached[0] is not connector:  # new, or edited in the console
                app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
                app.include_router(connector.webhooks(self.intake))
                for exc_class, handler in _HANDLERS.items():
                    app.add_exception_handler(exc_class, handler)
                self._apps[name] = (connector, app)
            return self._apps[name][1]

    def _capped(self, receive: Receive, send: Send) -> Receive:
        seen = 0
        limit = self.max_body_bytes

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge
            return message

        return wrapped


class PayloadTooLarge(Exception):
    """Raised while reading a body past the cap; the app maps it to 413."""


def _handler(status: int, detail: str, event: str) -> Any:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        log.warning(event, path=request.url.path, reason=str(exc))
        return JSONResponse({"detail": detail}, status_code=status)

    return handle


_HANDLERS = {
    SignatureError: _handler(403, "forbidden", "webhook_rejected"),
    BadPayload: _handler(400, "bad request", "webhook_bad_payload"),
    PayloadTooLarge: _handler(413, "payload too large", "webhook_too_large"),
}


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
