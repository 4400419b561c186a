"""The module `dramatiq` loads in each worker process: logging, settings, the Redis broker."""

from __future__ import annotations

import os

from omnidesk.logging import configure_logging
from omnidesk.settings import get_settings
from workers import runtime
from workers.broker import build_broker, install

_settings = get_settings()
configure_logging(_settings)
runtime.configure(_settings)
broker = install(build_broker(_settings, os.environ["OMNIDESK_REDIS_URL"]))
