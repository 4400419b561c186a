"""Run child processes as one tree: start them, forward SIGINT/SIGTERM, stop them all cleanly."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import structlog

log = structlog.get_logger(__name__)


class ProcessTree:
    """Children in our own process group (a crash of the group takes them all); when one dies
    or we are signalled, we stop the others."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = threading.Event()

    def start(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        process = subprocess.Popen(list(args), env=env)
        self.children.append((name, process))
        log.info("process_started", process=name, pid=process.pid)

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())

    def wait(self) -> int:
        """Block until a signal or a child's exit, then stop the rest; return an exit code."""
        code = 0
        while not self.stopping.is_set():
            for name, process in self.children:
                if process.poll() is not None:
                    log.error("process_exited", process=name, returncode=process.returncode)
                    code = process.returncode or 1
                    self.stopping.set()
            self.stopping.wait(0.5)
        self.stop()
        return code

    def stop(self, timeout: float = 20.0) -> None:
        for name, process in reversed(self.children):
            if process.poll() is None:
                log.info("process_stopping", process=name)
                _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("process_killed", process=name)
                _signal(process, signal.SIGKILL)
                process.wait()


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)


def omnidesk_command(*args: str) -> list[str]:
    """This interpreter running the omnidesk CLI (works in a venv without PATH)."""
    return [sys.executable, "-m", "omnidesk", *args]
