"""/webchat/{name}/…: hand each browser call, WebSocket included, to its chat connector's routes.

Like /webhooks (api.webhooks.WebhookRouter), but the callers are visitors' browsers, not
providers: WebSocket scopes pass through, and the body cap leaves room for an image upload.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnidesk.api.webhooks import (
    PayloadTooLarge,
    WebhookRouter,
    _answer,
    _content_length,
)
from omnidesk.connector import ChatConnector, Intake
from omnidesk.desk import Desk
from omnidesk.services.chat import ChatBook

# Room for the multipart framing around an upload of the connector's largest image.
UPLOAD_OVERHEAD = 64 * 1024
NO_SUCH_CHAT = 4404


class ChatRouter(WebhookRouter):
    """An ASGI app: finds the chat connector by name and forwards to its routes (built once)."""

    def __init__(self, desk: Desk, intake: Intake, book: ChatBook, max_body_bytes: int) -> None:
        super().__init__(desk, intake, max_body_bytes)
        self.book = book
        self._chat_apps: dict[str, tuple[ChatConnector, ASGIApp]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        path = scope["path"][len(scope.get("root_path", "")) :]
        name, _, _rest = path.lstrip("/").partition("/")
        app = self._app_for(name)
        if app is None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": NO_SUCH_CHAT})
                return
            await _answer(send, 404, {"detail": f"no chat connector named {name!r}"})
            return
        limit = self._limit(name)
        declared = _content_length(scope)
        if scope["type"] == "http" and declared is not None and declared > limit:
            await _answer(send, 413, {"detail": "payload too large"})
            return
        child = dict(scope)
        child["omnidesk.original_path"] = scope["path"]
        child["root_path"] = scope.get("root_path", "") + f"/{name}"
        wrapped = self._capped_to(receive, limit) if scope["type"] == "http" else receive
        await app(child, wrapped, send)

    def _limit(self, name: str) -> int:
        connector = self.desk.connector(name)
        image = int(getattr(getattr(connector, "config", None), "max_image_bytes", 0))
        return max(self.max_body_bytes, image + UPLOAD_OVERHEAD)

    def _capped_to(self, receive: Receive, limit: int) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge
            return message

        return wrapped

    def _app_for(self, name: str) -> ASGIApp | None:  # type: ignore[override]
        connector = self.desk.connector(name)
        if not isinstance(connector, ChatConnector) or not connector.config.enabled:
            return None
        with self._lock:
            cached = self._chat_apps.get(name)
            if cached is None or cached[0] is not connector:  # new, or edited in the console
                self._chat_apps[name] = (connector, connector.chat(self.intake, self.book))
            return self._chat_apps[name][1]
