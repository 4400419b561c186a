"""`omnidesk up` for a benchmark: one Twilio SMS connector on a fake Twilio, in a temp directory.

Shared by benchmarks/memory.py and benchmarks/slow_orders.py. Embedded defaults (SQLite and an
embedded Redis) unless the caller's environment names a database and a Redis.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"
NUMBER = "+15005550006"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sms_connector(twilio_url: str) -> str:
    return (
        f'[[connectors]]\nname = "tp-sms"\nchannel = "twilio"\naccount_sid = "{SID}"\n'
        f'auth_token = "${{TWILIO_AUTH_TOKEN}}"\nfrom_number = "{NUMBER}"\n'
        f'api_base_url = "{twilio_url}"\n'
    )


@contextmanager
def omnidesk_up(
    data_dir: str, config: str, env: dict[str, str] | None = None, embedded: bool = True
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The running desk and its URL, once /healthz answers and the workers had time to start."""
    port = free_port()
    path = Path(data_dir) / "omnidesk.toml"
    path.write_text(config, encoding="utf-8")
    full = (
        os.environ
        | {
            "OMNIDESK_DATA_DIR": data_dir,
            "OMNIDESK_CONFIG": str(path),
            "OMNIDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TWILIO_AUTH_TOKEN": TOKEN,
            "OMNIDESK_LOG_LEVEL": "warning",
        }
        | (env or {})
    )
    if embedded:
        full.pop("OMNIDESK_DATABASE_URL", None)
        full.pop("OMNIDESK_REDIS_URL", None)
    command = [sys.executable, "-m", "omnidesk", "up", "--port", str(port)]
    up = subprocess.Popen(command, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _healthy(url):
            if time.monotonic() > deadline or up.poll() is not None:
                raise SystemExit("omnidesk up did not start")
            time.sleep(0.5)
        time.sleep(10)  # the workers and the scheduler settle
        yield up, url
    finally:
        up.terminate()
        up.wait(60)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
