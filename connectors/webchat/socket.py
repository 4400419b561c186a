"""The live socket: the visitor's messages in (stored once, acked), the chat's messages out.

One socket, two loops: `_read` takes the visitor's frames; `_push` forwards what the hub says
for this visitor (a message of theirs was sent, an agent types) and pings when quiet. Every
message frame is built from its row, so a pushed message and a resumed one are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from connectors.webchat import frames
from connectors.webchat.context import ChatContext
from connectors.webchat.frames import FrameError
from connectors.webchat.token import Visitor
from omnidesk.inbound import Attachment

log = structlog.get_logger(__name__)

PING_SECONDS = 25.0
ORIGIN_REFUSED, TOKEN_REFUSED = 4403, 4401
MAX_FRAME_BYTES = 64 * 1024


def socket_routes(chat: ChatContext) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws")
    async def live(websocket: WebSocket) -> None:
        # Accept, then close with a code: a handshake refused outright reaches a browser as a
        # bare failure, and the widget must tell "not allowed here" from "sign in again".
        allowed = chat.origin_allowed(websocket.headers.get("origin"))
        visitor = chat.tokens.read(websocket.query_params.get("token"))
        await websocket.accept()
        if not allowed:
            await websocket.close(ORIGIN_REFUSED, "origin not allowed")
            return
        if visitor is None:
            await websocket.close(TOKEN_REFUSED, "visitor token not valid")
            return
        token = websocket.query_params.get("token") or ""
        await ChatSocket(chat, websocket, visitor, token).run()

    return router


class ChatSocket:
    """One visitor's open socket."""

    def __init__(self, chat: ChatContext, ws: WebSocket, visitor: Visitor, token: str) -> None:
        self.chat = chat
        self.ws = ws
        self.visitor = visitor
        self.token = token
        self.ip = ws.client.host if ws.client else "unknown"
        self.page: dict[str, str] = {}
        self.state: dict[str, Any] | None = None
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        address = self.visitor.address
        queue = await self.chat.hub.listen(address)
        self.page = await self.chat.page(address)
        bound = log.bind(connector=self.chat.name, visitor=address)
        bound.debug("webchat_connected")
        pusher = asyncio.get_running_loop().create_task(self._push(queue))
        try:
            await self._refresh_state()
            await self._read()
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
            self.chat.hub.leave(address, queue)
            bound.debug("webchat_disconnected")

    async def send(self, frame: dict[str, Any]) -> None:
        if self.ws.application_state != WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def _read(self) -> None:
        while True:
            event = await self.ws.receive()
            if event["type"] == "websocket.disconnect":
                return
            raw = event.get("text")
            if raw is None or len(raw) > MAX_FRAME_BYTES:
                await self.send(frames.error("bad_frame", "frames are JSON text up to 64 KB"))
                continue
            try:
                frame = json.loads(raw)
                if not isinstance(frame, dict):
                    raise ValueError("not an object")
                await self._handle(frame)
            except ValueError:
                await self.send(frames.error("bad_frame", "frames are JSON objects"))
            except FrameError as exc:
                await self.send(exc.frame())

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message":
            await self._message(frame)
        elif kind == "resume":
            await self._resume(_int(frame.get("after")))
        elif kind == "read":
            up_to = _int(frame.get("up_to"))
            await run_in_threadpool(self.chat.book.mark_read, self.chat.name, self.address, up_to)
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind != "typing":  # the visitor's typing is not shown to agents (yet)
            raise FrameError("unknown_type", f"unknown frame type {kind!r}")

    @property
    def address(self) -> str:
        return self.visitor.address

    async def _message(self, frame: dict[str, Any]) -> None:
        config = self.chat.config
        message = frames.read_message(frame, config.max_message_chars)
        for kind, who, limit in (
            ("visitor", self.address, config.visitor_messages_per_minute),
            ("ip", self.ip, config.ip_messages_per_minute),
        ):
            wait = await self.chat.limiter.hit(kind, who, limit, 60)
            if wait is not None:
                await self.send(
                    frames.error(
                        "rate_limited",
                        "too many messages; wait a moment",
                        message.client_id,
                        retry_after=wait,
                    )
                )
                return
        inbound = frames.inbound(
            self.chat.name, self.address, message, self._attachments(message), self.page
        )
        accepted = await run_in_threadpool(
            self.chat.intake.accept, inbound, _raw(frame), "application/json"
        )
        await self.send(frames.ack(message.client_id, accepted.message_id))
        if not accepted.duplicate and (self.state or {}).get("state") == "bot":
            await self.send({"type": "typing", "from": "bot"})

    def _attachments(self, message: frames.VisitorMessage) -> tuple[Attachment, ...]:
        if message.attachment_id is None:
            return ()
        upload = self.chat.attachment_ids.read(message.attachment_id)
        if upload is None or upload.owner != self.address:
            raise FrameError("bad_attachment", "upload the image again", message.client_id)
        return (
            Attachment(
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                storage_key=upload.storage_key,
            ),
        )

    async def _resume(self, after: int) -> None:
        lines = await run_in_threadpool(self.chat.book.history, self.chat.name, self.address, after)
        for line in lines:
            await self.send(frames.message(line, self._file_url))
        await self._refresh_state()

    def _file_url(self, meta: dict[str, Any]) -> str | None:
        return self.chat.file_url(meta, self.visitor, self.token)

    async def _push(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            try:
                notice = await asyncio.wait_for(queue.get(), timeout=PING_SECONDS)
            except TimeoutError:
                await self.send({"type": "ping"})
                continue
            if notice.get("type") == "message":
                await self._push_message(_int(notice.get("id")))
            elif notice.get("type") in ("typing", "read", "state"):
                await self.send(notice)

    async def _push_message(self, message_id: int) -> None:
        line = await run_in_threadpool(
            self.chat.book.line, self.chat.name, self.address, message_id
        )
        if line is None:
            return
        await self.send(frames.message(line, self._file_url))
        if line.read_up_to is not None:
            await self.send({"type": "read", "up_to": line.read_up_to})
        await self._refresh_state()

    async def _refresh_state(self) -> None:
        found = await run_in_threadpool(self.chat.book.state, self.chat.name, self.address)
        frame = frames.state(found)
        if frame != self.state:
            self.state = frame
            await self.send(frame)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FrameError("bad_frame", "expected a whole number >= 0")
    return value


def _raw(frame: dict[str, Any]) -> bytes:
    """The frame as it came (the raw payload kept beside the message, durability §5)."""
    return json.dumps(frame, ensure_ascii=False).encode()
