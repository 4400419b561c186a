"""API test fixtures: the live app with /api/v1 mounted, and the desk's people."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import httpx
import pytest

from omnidesk.settings import Settings
from tests.api.seed import Person, make_people
from tests.live import LiveServer


@pytest.fixture
def client(settings: Settings, broker: dramatiq.Broker) -> Iterator[httpx.Client]:
    """The API app (with /api/v1 installed) on its public URL, and an HTTP client for it."""
    from omnidesk.api import v1
    from omnidesk.api.app import create_app
    from workers.dispatch import DramatiqDispatcher

    app = create_app(settings, dispatcher=DramatiqDispatcher())
    v1.install(app)  # a no-op once create_app installs it
    server = LiveServer(app, int(settings.public_url.rsplit(":", 1)[1])).start()
    with httpx.Client(base_url=settings.public_url, timeout=30) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http
    server.stop()


@pytest.fixture
def people(settings: Settings) -> dict[str, Person]:
    return make_people(settings)
