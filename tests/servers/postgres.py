"""A real PostgreSQL for tests: Debian's initdb and postgres on 127.0.0.1, run unprivileged."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from tests.servers._support import (
    ServerProcess,
    ServiceUser,
    on_free_port,
    server_home,
    service_user,
)

SUPERUSER = "postgres"
PG_ROOT = Path("/usr/lib/postgresql")

# fsync=off trades durability against a machine crash for speed; a killed postgres still loses
# nothing committed, because the OS holds the writes. synchronous_commit stays on: off would lose
# the last commits to a SIGKILL, which the chaos tests do on purpose. TCP only: no Unix socket
# path length limit.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "log_min_messages": "warning",
}


def find_bin_dir() -> Path:
    """The bin directory of the highest PostgreSQL major version installed."""
    candidates = [p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()]
    if not candidates:
        raise RuntimeError(f"no {PG_ROOT}/*/bin/initdb: run scripts/install-test-deps")
    return max(candidates, key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)])


@dataclass(eq=False)
class PostgresServer:
    """A postgres cluster in ``data_dir``, listening on 127.0.0.1:``port`` with trust auth."""

    port: int
    data_dir: Path
    bin_dir: Path
    log_path: Path
    user: ServiceUser | None = None
    superuser: str = SUPERUSER
    _process: ServerProcess | None = field(default=None, init=False, repr=False)

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """A psycopg connection (autocommit) as the superuser."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.superuser,
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy URL."""
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def start(self) -> None:
        """Start postgres on the same port and data dir; returns once it accepts connections."""
        if self._process is not None and self._process.running:
            return
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        for name, value in SETTINGS.items():
            argv += ["-c", f"{name}={value}"]
        self._process = ServerProcess(
            "postgres",
            argv,
            self.log_path,
            # SIGINT is the "fast" shutdown: it does not wait for clients a test forgot to close.
            stop_signal=signal.SIGINT,
            user=self.user,
            env=_env(),
        )
        self._process.start()
        self._process.wait_until(self._accepts_connections, timeout=30)

    def stop(self, *, kill: bool = False) -> None:
        """Fast shutdown, or with ``kill=True`` SIGKILL the postmaster and its backends."""
        if self._process is not None:
            self._process.stop(sig=signal.SIGKILL if kill else None)
            self._process = None

    def restart(self) -> None:
        """Stop and start again on the same port; committed data survives."""
        self.stop()
        self.start()

    def _accepts_connections(self) -> bool:
        try:
            with self.connect():
                return True
        except psycopg.OperationalError:
            return False


@contextmanager
def postgres_server(tmp_dir: Path) -> Iterator[PostgresServer]:
    """Run initdb and a postgres on a free port, logging to ``tmp_dir``; remove it all on exit."""
    tmp_dir = Path(tmp_dir)
    user = service_user()
    bin_dir = find_bin_dir()
    with server_home(tmp_dir, "postgres", user) as home:
        data_dir = home / "data"
        _initdb(bin_dir, data_dir, tmp_dir / "initdb.log", user)

        def start(port: int) -> PostgresServer:
            server = PostgresServer(port, data_dir, bin_dir, tmp_dir / "postgres.log", user)
            server.start()
            return server

        server = on_free_port(start)
        try:
            yield server
        finally:
            server.stop()


def _initdb(bin_dir: Path, data_dir: Path, log_path: Path, user: ServiceUser | None) -> None:
    argv = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust"]
    argv += ["--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"]
    with log_path.open("wb") as log:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(),
            user=user.uid if user else None,
            group=user.gid if user else None,
            extra_groups=[] if user else None,
            check=False,
        )
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"initdb failed with code {result.returncode}:\n{tail}")


def _env() -> dict[str, str]:
    """A small environment: no PG* variables from the developer's shell, C messages."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
