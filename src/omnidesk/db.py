"""Engine and unit of work: the actor or route owns the transaction; services never commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from omnidesk.settings import Settings

READ_ONLY = "omnidesk_read_only"
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _make_sqlite_serialisable(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _make_sqlite_serialisable(engine: Engine) -> None:
    """WAL for concurrent readers; BEGIN IMMEDIATE so two writers never race on a read-then-write.

    pysqlite's own transaction handling is switched off (SQLAlchemy's documented recipe), so
    every transaction takes the write lock when it begins and waits for it up to the timeout.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers (reports, listings) take no write lock: WAL gives them a consistent snapshot.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def get_engine(settings: Settings) -> Engine:
    """The pooled engine for these settings' database (one per URL per process)."""
    url = settings.resolved_database_url
    with _lock:
        if url not in _engines:
            if settings.uses_sqlite:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            _engines[url] = _build_engine(url)
        return _engines[url]


@contextmanager
def unit_of_work(settings: Settings) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    with Session(get_engine(settings), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(settings: Settings) -> Iterator[Session]:
    """A session for reading only: on SQLite it does not take the write lock."""
    engine = get_engine(settings).execution_options(**{READ_ONLY: True})
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def dispose_engines() -> None:
    """Close every pooled connection (tests, and after a fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
