"""How `omnidesk up`, `api`, `worker` and `demo` run: embedded Redis, migrations, processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from omnidesk.embedded import EmbeddedRedis
from omnidesk.settings import Settings
from omnidesk.supervise import ProcessTree, omnidesk_command

log = structlog.get_logger(__name__)


@contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """The configured Redis, or an embedded one started (and stopped) around the block."""
    if settings.redis_url:
        yield settings.redis_url
        return
    embedded = EmbeddedRedis(settings.data_dir).start()
    os.environ["OMNIDESK_REDIS_URL"] = embedded.url
    try:
        yield embedded.url
    finally:
        embedded.stop()


def _with_redis(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"redis_url": url})


def prepare_classifier(settings: Settings) -> None:
    """Train the default classifier once here, not in every worker process at first use."""
    from omnidesk.triage import store

    version = store.active_version(settings.triage_model_dir)
    if version is None:  # scikit-learn only when there is something to train
        from omnidesk.triage.train import ensure_model

        version = ensure_model(settings.triage_model_dir)
    log.info("classifier_ready", version=version, model_dir=str(settings.triage_model_dir))


def prepare(settings: Settings) -> None:
    """Everything `up` checks and sets up before it starts its processes: the schema, the
    classifier, the configuration (connectors synced). Run as a child that exits (`omnidesk
    prepare`), so the supervisor that then waits on the tree holds none of it in memory."""
    from omnidesk.desk import Desk
    from omnidesk.migrate import upgrade

    upgrade(settings)
    prepare_classifier(settings)
    with redis_for(settings) as url:
        Desk.load(_with_redis(settings, url))


def run_api(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """The API on one port: in this process, or in `workers` processes that share the socket
    (uvicorn's supervisor; each builds its own app from the environment, `api_app`)."""
    import uvicorn

    options: dict[str, object] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 3,
    }
    with redis_for(settings) as url:  # an embedded Redis is shared: its URL is in the env
        if workers > 1:
            from omnidesk.desk import Desk

            Desk.load(_with_redis(settings, url))  # a bad config fails here, not N times
            uvicorn.run("omnidesk.runner:api_app", factory=True, workers=workers, **options)
            return
        uvicorn.run(api_app(_with_redis(settings, url)), **options)  # type: ignore[arg-type]


def api_app(settings: Settings | None = None) -> object:
    """The API app with the broker installed (uvicorn's factory for `--workers N`)."""
    from omnidesk.api.app import create_app

    if settings is None:  # a worker process of `api --workers N`
        from omnidesk.logging import configure_logging
        from omnidesk.settings import get_settings

        settings = get_settings()
        configure_logging(settings)
    assert settings.redis_url, "OMNIDESK_REDIS_URL is set by run_api"
    _dramatiq_broker(settings, settings.redis_url)
    return create_app(settings)


def _dramatiq_broker(settings: Settings, url: str) -> None:
    """The API enqueues through the same broker the workers consume."""
    from workers.broker import build_broker, install

    install(build_broker(settings, url))


def run_worker(settings: Settings, processes: int | None, threads: int | None) -> int:
    from omnidesk.desk import Desk
    from workers.pollers import MailboxPollers
    from workers.schedule import Scheduler, default_jobs

    with redis_for(settings) as url:
        settings = _with_redis(settings, url)
        desk = Desk.load(settings)  # fail now on a bad config, and sync connectors
        prepare_classifier(settings)
        _dramatiq_broker(settings, url)
        pollers = MailboxPollers.for_desk(desk, url).start()
        scheduler = Scheduler(url, default_jobs(settings))
        scheduler.start()
        tree = ProcessTree()
        tree.install_signal_handlers()
        env = {**os.environ, "OMNIDESK_REDIS_URL": url}
        tree.start(
            "dramatiq",
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.entry",
                "--processes",
                str(processes or settings.worker_processes),
                "--threads",
                str(threads or settings.worker_threads),
            ],
            env=env,
        )
        code = tree.wait()
        pollers.stop()
        scheduler.stop()
        return code


def run_up(
    settings: Settings,
    host: str,
    port: int,
    extra_env: dict[str, str] | None = None,
    on_ready: object = None,
) -> int:
    import subprocess

    with redis_for(settings) as url:
        env = {**os.environ, **(extra_env or {}), "OMNIDESK_REDIS_URL": url}
        # migrate, train the default model if none, check the config: fail before starting
        checked = subprocess.run(omnidesk_command("prepare"), env=env, check=False)
        if checked.returncode != 0:
            return checked.returncode
        tree = ProcessTree()
        tree.install_signal_handlers()
        tree.start("api", omnidesk_command("api", "--host", host, "--port", str(port)), env=env)
        tree.start("worker", omnidesk_command("worker"), env=env)
        log.info("omnidesk_up", url=f"http://{host}:{port}", docs=f"http://{host}:{port}/docs")
        if callable(on_ready):
            on_ready(tree)
        return tree.wait()


def run_demo(settings: Settings, host: str, port: int, count: int, interval: float) -> int:
    from fakes.demo import DemoTraffic, demo_environment

    env, fakes = demo_environment(settings, host, port)
    os.environ.update(env)
    demo_settings = Settings()
    traffic = DemoTraffic(env, fakes, count=count, interval=interval)

    def ready(_tree: object) -> None:
        from omnidesk.web.demo import banner, ensure_demo_accounts

        ensure_demo_accounts(demo_settings)
        traffic.start()
        sys.stderr.write("\n" + banner(env["OMNIDESK_PUBLIC_URL"]) + "\n\n")
        sys.stderr.flush()

    try:
        return run_up(demo_settings, host, port, extra_env=env, on_ready=ready)
    finally:
        traffic.stop()
        fakes.stop()
