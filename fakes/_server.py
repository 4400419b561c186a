"""Serve a fake provider's ASGI app from a daemon thread on a loopback port (every fake)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn


class _QuickServer(uvicorn.Server):
    """uvicorn polls `should_exit` every 0.1 s; tests stop fakes often, so poll every 10 ms."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)


class BackgroundServer:
    """One uvicorn server in a thread; `start` returns the port once it accepts connections."""

    def __init__(self, app: Any, name: str) -> None:
        self.app = app
        self.name = name
        self._server: _QuickServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str, port: int) -> int:
        sock = socket.create_server((host, port))
        config = uvicorn.Config(
            self.app, interface="asgi3", lifespan="off", log_level="warning", access_log=False
        )
        config.timeout_graceful_shutdown = 2
        self._server = _QuickServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)
        return int(sock.getsockname()[1])

    def stop(self, *, force: bool = False) -> None:
        """Stop serving; `force` does not wait for kept-alive client connections."""
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = force
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
