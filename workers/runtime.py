"""What actors need in this process: settings, the desk (connectors, config) and the labeller."""

from __future__ import annotations

import threading
from datetime import timedelta

from omnidesk.desk import Desk
from omnidesk.services.answers import Answerer
from omnidesk.services.classify import Labeller, TriageLabeller
from omnidesk.services.send import RetryPolicy
from omnidesk.settings import Settings, get_settings

_lock = threading.Lock()
_settings: Settings | None = None
_desk: Desk | None = None
_labeller: Labeller | None = None
_answerer: Answerer | None = None


def configure(
    settings: Settings, desk: Desk | None = None, labeller: Labeller | None = None
) -> None:
    """Fix this process's settings (and optionally desk and labeller); tests call this."""
    global _settings, _desk, _labeller, _answerer
    with _lock:
        _settings, _desk, _labeller, _answerer = settings, desk, labeller, None


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = get_settings()
    return _settings


def desk() -> Desk:
    global _desk
    with _lock:
        if _desk is None:
            _desk = Desk.load(settings())
        return _desk


def labeller() -> Labeller:
    global _labeller
    with _lock:
        if _labeller is None:
            _labeller = TriageLabeller(settings().triage_model_dir)
        return _labeller


def answerer() -> Answerer:
    """Order lookups and the knowledge base, built once from the desk config and re-indexed
    when the admin console changes the knowledge base."""
    global _answerer
    config = desk().config
    if _answerer is None:
        built = Answerer.from_config(config)
        with _lock:
            _answerer = _answerer or built
    fresh = _answerer.refreshed(config)
    if fresh is not _answerer:
        with _lock:
            _answerer = fresh
    return fresh


def stuck_after() -> timedelta:
    return timedelta(seconds=settings().stuck_after_seconds)


def retry_policy() -> RetryPolicy:
    s = settings()
    return RetryPolicy(s.send_max_attempts, s.send_min_backoff_ms, s.send_max_backoff_ms)
