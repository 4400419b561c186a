"""Website chat fixtures: a desk with the `tp-web` chat, the fake order system, the live API and a
worker, agents, and a WebSocket client speaking the widget's protocol over the wire."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from sqlmodel import Session, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from fakes.orders import FakeOrders
from omnidesk.db import get_engine
from omnidesk.settings import Settings
from tests.api.seed import Person, make_people

SHOP = "https://shop.tp.example"
IDENTITY_SECRET = "shop-identity-secret-for-tests"
ORDER_TOKEN = "order-api-token"
KNOWLEDGE = Path(__file__).parents[3] / "config" / "knowledge"
WEDNESDAY_10_BEIJING = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
WEDNESDAY_23_BEIJING = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
WAIT = 20.0


def webchat_toml(orders_url: str, extra: str = "") -> str:
    return f"""
[knowledge]
directory = "{KNOWLEDGE.as_posix()}"

[order_system]
url = "{orders_url}"
headers = {{ Authorization = "Bearer ${{ORDER_API_TOKEN}}" }}

[[teams]]
name = "orders"
categories = ["order", "payment"]

[[teams]]
name = "general"
categories = ["account", "contact", "other", "after_sales", "product", "complaint"]

[routing]
default_team = "general"

[[connectors]]
name = "tp-web"
channel = "webchat"
allowed_origins = ["{SHOP}"]
identity_secret = "${{WEBCHAT_IDENTITY_SECRET}}"
{extra}
"""


@pytest.fixture
def fake_orders() -> Iterator[FakeOrders]:
    with FakeOrders(token=ORDER_TOKEN) as fake:
        yield fake


@pytest.fixture
def chat_extra() -> str:
    """Extra keys of the `tp-web` table (tests override this fixture)."""
    return ""


@pytest.fixture
def clock_at() -> datetime:
    """When the test happens: a Wednesday morning in Beijing, inside business hours."""
    return WEDNESDAY_10_BEIJING


@pytest.fixture
def clock(clock_at: datetime) -> Iterator[None]:
    with time_machine.travel(clock_at, tick=True):
        yield


@pytest.fixture
def chat_desk(
    clock: None,
    configure: Callable[[str], Settings],
    fake_orders: FakeOrders,
    chat_extra: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    monkeypatch.setenv("WEBCHAT_IDENTITY_SECRET", IDENTITY_SECRET)
    monkeypatch.setenv("ORDER_API_TOKEN", ORDER_TOKEN)
    return configure(webchat_toml(fake_orders.url_template, chat_extra))


@pytest.fixture
def api(chat_desk: Settings, client: httpx.Client) -> httpx.Client:
    """The live API with the chat; requests from the shop's pages carry its Origin."""
    client.headers["Origin"] = SHOP
    return client


@pytest.fixture
def people(chat_desk: Settings, api: httpx.Client) -> dict[str, Person]:
    return make_people(chat_desk)


def user_hash(user_id: str) -> str:
    return hmac.new(IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def start_session(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/webchat/tp-web/session", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def rows(settings: Settings, model: type, *where: object) -> list[Any]:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(model).where(*where)))


class Widget:
    """A visitor's socket, speaking the widget's protocol; remembers every frame received."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    def send(self, **frame: Any) -> None:
        self.ws.send(json.dumps(frame, ensure_ascii=False))

    def say(self, text: str, client_id: str | None = None, **extra: Any) -> str:
        client_id = client_id or str(uuid.uuid4())
        self.send(type="message", client_id=client_id, text=text, **extra)
        return client_id

    def wait_for(self, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first frame (already received or coming) that passes `check`."""
        for frame in self.frames:
            if check(frame):
                return frame
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                raw = self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            frame = json.loads(raw)
            self.frames.append(frame)
            if check(frame):
                return frame
        seen = [f.get("type") for f in self.frames]
        raise AssertionError(f"no such frame within {WAIT}s; got {seen}")

    def messages(self, sender: str | None = None) -> list[dict[str, Any]]:
        found = [f for f in self.frames if f["type"] == "message"]
        return [f for f in found if sender is None or f["from"] == sender]

    def close(self) -> None:
        self.ws.close()


def ws_url(settings: Settings, token: str | None) -> str:
    base = settings.public_url.replace("http://", "ws://")
    return f"{base}/webchat/tp-web/ws" + (f"?token={token}" if token is not None else "")


def close_code(settings: Settings, token: str | None, origin: str = SHOP) -> int | None:
    """The code the server closes a socket with at once (origin or token refused)."""
    with connect(ws_url(settings, token), origin=origin, open_timeout=WAIT) as ws:  # type: ignore[arg-type]
        try:
            ws.recv(timeout=WAIT)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
    return None


@pytest.fixture
def widgets(chat_desk: Settings) -> Iterator[Callable[..., Widget]]:
    """Opens visitors' sockets (closed at the end of the test)."""
    with contextlib.ExitStack() as stack:

        def open_one(token: str, origin: str = SHOP) -> Widget:
            ws = connect(ws_url(chat_desk, token), origin=origin, open_timeout=WAIT)  # type: ignore[arg-type]
            return Widget(stack.enter_context(ws))

        yield open_one
