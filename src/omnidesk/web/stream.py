"""GET /api/v1/events/stream: request changes as server-sent events, for the signed-in agent.

Workers change requests in other processes (and on other machines), but every change is written
with an `Event` row in the same transaction, so the event table is the one place that sees them
all. One `EventFeed` per API process polls it by id once a second (one indexed query however
many browsers listen) and hands each changed request to the streams whose agent may see it.

PostgreSQL hands out ids before commit, so a later id can become visible first: ids skipped
over are asked for again for GAP_SECONDS before they are given up (a rolled-back insert never
shows up). A stream that falls behind is told to `resync` (the browser reloads its lists).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, or_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from omnidesk.api.deps import CurrentAgent, Principal, authenticate
from omnidesk.db import unit_of_work
from omnidesk.models import Event
from omnidesk.models import Request as DeskRequest
from omnidesk.services import inbox
from omnidesk.services.inbox import Viewer
from omnidesk.settings import Settings

log = structlog.get_logger(__name__)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
REAUTH_SECONDS = 30.0
GAP_SECONDS = 10.0
MAX_GAPS = 1_000
MAX_BATCH = 500
QUEUE_SIZE = 200

router = APIRouter(tags=["web"])


@dataclass(frozen=True)
class Change:
    """A request that changed: the latest event about it and the request as the inbox lists it."""

    event_id: int
    kind: str
    request: dict[str, Any]

    def visible_to(self, viewer: Viewer) -> bool:
        if self.request.get("bot_active"):
            return False  # the bot's chat: it reaches the inbox with its hand-off event
        probe = DeskRequest(team=self.request.get("team"), assignee=self.request.get("assignee"))
        return viewer.can_see(probe)

    def sse(self) -> str:
        body = {"event_id": self.event_id, "kind": self.kind, "request": self.request}
        return f"event: request\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"


@dataclass(eq=False)
class Listener:
    """One open stream: whose it is, and the changes waiting to be sent."""

    viewer: Viewer
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    behind: bool = False

    def offer(self, change: Change) -> None:
        if not change.visible_to(self.viewer):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.behind = True


class EventFeed:
    """Polls the event table while anyone listens; starts with the first listener."""

    def __init__(self, settings: Settings, poll_seconds: float = POLL_SECONDS) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.listeners: set[Listener] = set()
        self.last_id: int | None = None
        self.gaps: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, viewer: Viewer) -> Listener:
        listener = Listener(viewer)
        self.listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def _run(self) -> None:
        try:
            self.last_id = await anyio.to_thread.run_sync(self._max_id)
            while self.listeners:
                for change in await self._poll_safely():
                    for listener in list(self.listeners):
                        listener.offer(change)
                await asyncio.sleep(self.poll_seconds)
        finally:  # the next listener starts from the newest event, not from a stale position
            self.last_id, self.gaps = None, {}

    async def _poll_safely(self) -> list[Change]:
        try:
            return await anyio.to_thread.run_sync(self.poll)
        except SQLAlchemyError as exc:  # the database restarting: try again next second
            log.warning("event_feed_poll_failed", error=type(exc).__name__)
            return []

    def _max_id(self) -> int:
        with unit_of_work(self.settings) as session:
            return int(session.exec(select(func.coalesce(func.max(Event.id), 0))).one())

    def poll(self) -> list[Change]:
        """The requests changed since the last poll, each with its latest event, oldest first."""
        last = self.last_id or 0
        wanted = or_(col(Event.id) > last, col(Event.id).in_(list(self.gaps)))
        with unit_of_work(self.settings) as session:
            rows = session.exec(
                select(Event.id, Event.kind, Event.request_id)
                .where(wanted)
                .order_by(col(Event.id))
                .limit(MAX_BATCH)
            ).all()
            self._advance([row[0] for row in rows])
            latest = {request_id: (eid, kind) for eid, kind, request_id in rows if request_id}
            found = session.exec(select(DeskRequest).where(col(DeskRequest.id).in_(latest))).all()
            summaries = inbox.summaries(session, list(found)) if found else []
        changes = [Change(*latest[s["id"]], request=s) for s in summaries]
        return sorted(changes, key=lambda c: c.event_id)

    def _advance(self, seen: list[int]) -> None:
        """Move past the ids seen; remember the ones skipped (not committed yet) for a while."""
        now, last = time.monotonic(), self.last_id or 0
        for event_id in seen:
            self.gaps.pop(event_id, None)
        top = max(seen, default=last)
        if top > last:
            present = set(seen)
            missing = (i for i in range(last + 1, top) if i not in present)
            self.gaps.update((i, now) for i in missing)
            self.last_id = top
        self.gaps = {
            i: at for i, at in sorted(self.gaps.items())[-MAX_GAPS:] if now - at < GAP_SECONDS
        }


def feed_of(request: Request) -> EventFeed:
    """The app's feed (one per process), made on first use."""
    state = request.app.state
    if getattr(state, "event_feed", None) is None:
        state.event_feed = EventFeed(state.settings)
    feed: EventFeed = state.event_feed
    return feed


def server_exiting() -> bool:
    """Whether uvicorn was asked to stop.

    Uvicorn waits for open responses before it exits, and a stream never ends by itself: without
    this, Ctrl-C would hang while a browser tab is open. Uvicorn's signal handler is a bound
    method of its Server (main thread only; in other set-ups this answers False).
    """
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))


async def _still_signed_in(request: Request, me: Principal) -> Principal | None:
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or None
    cookie = None if bearer else me.session_cookie
    return await anyio.to_thread.run_sync(authenticate, request, bearer, cookie)


async def _events(request: Request, me: Principal, feed: EventFeed) -> AsyncIterator[str]:
    listener = feed.subscribe(me.viewer)
    checked = beat = time.monotonic()
    try:
        yield "retry: 2000\nevent: ready\ndata: {}\n\n"
        while not server_exiting():
            with contextlib.suppress(TimeoutError):
                yield (await asyncio.wait_for(listener.queue.get(), timeout=1.0)).sse()
                continue
            now = time.monotonic()
            if listener.behind:
                listener.behind = False
                yield "event: resync\ndata: {}\n\n"
            if now - checked > REAUTH_SECONDS:
                checked, principal = now, await _still_signed_in(request, me)
                if principal is None:
                    yield "event: signed_out\ndata: {}\n\n"
                    return
                listener.viewer = principal.viewer
            if now - beat > HEARTBEAT_SECONDS:
                beat = now
                yield ": ping\n\n"
    finally:
        feed.unsubscribe(listener)


@router.get("/api/v1/events/stream", response_class=StreamingResponse)
async def event_stream(request: Request, me: CurrentAgent) -> StreamingResponse:
    """Server-sent events: `request` (a changed request, as the inbox lists it) for each request
    the agent may see; `resync` (reload your lists), `signed_out`; `: ping` every 15 s."""
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    stream = _events(request, me, feed_of(request))
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
