"""The demo order service's own tests: it refuses bad tokens and unknown orders like a shop API."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import httpx
import pytest

from fakes.orders import BEIJING, FakeOrders, demo_orders

TOKEN = "demo-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set(threading.enumerate()) - before == set()


@pytest.fixture
def fake() -> Iterator[FakeOrders]:
    with FakeOrders(token=TOKEN) as server:
        yield server


def get(server: FakeOrders, number: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{server.base_url}/orders/{number}", headers=headers, timeout=5)


def test_demo_order_1234567890_is_shipped_by_sf_express_arriving_tomorrow(fake):
    response = get(fake, "1234567890", AUTH)
    tomorrow = datetime.now(BEIJING).date() + timedelta(days=1)
    assert response.status_code == 200
    assert response.json() == {
        "order_number": "1234567890",
        "status": "shipped",
        "carrier": "顺丰速运",
        "tracking_number": "SF1234567890123",
        "eta": tomorrow.isoformat(),
        "items": ["无线蓝牙耳机 黑色"],
    }


@pytest.mark.parametrize("number", ["2024112500123", "9876543210", "5566778899"])
def test_the_other_demo_orders_are_seeded(fake, number):
    body = get(fake, number, AUTH).json()
    assert body["order_number"] == number
    assert body["status"]


def test_demo_dates_are_relative_to_today():
    orders = demo_orders(today=date(2026, 11, 25))
    assert orders["1234567890"]["eta"] == "2026-11-26"
    assert orders["6677889900"]["eta"] is None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(None, id="missing"),
        pytest.param({"Authorization": "Bearer wrong"}, id="wrong-token"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, id="wrong-scheme"),
        pytest.param({"Authorization": "Bearer"}, id="empty-token"),
    ],
)
def test_requests_without_the_bearer_token_are_refused(fake, headers):
    response = get(fake, "1234567890", headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"


def test_the_token_is_checked_before_the_order_exists(fake):
    assert get(fake, "1111111111").status_code == 401


def test_an_unknown_order_is_404_with_a_json_error(fake):
    response = get(fake, "1111111111", AUTH)
    assert response.status_code == 404
    assert response.json()["error"] == "order_not_found"


def test_without_a_token_configured_anyone_may_ask():
    with FakeOrders() as open_shop:
        assert get(open_shop, "1234567890").status_code == 200


def test_only_get_is_allowed(fake):
    response = httpx.post(f"{fake.base_url}/orders/1234567890", headers=AUTH, timeout=5)
    assert response.status_code == 405


def test_failures_are_scripted_and_then_it_recovers(fake):
    fake.fail_next(2)
    fake.garble_next()
    responses = [get(fake, "1234567890", AUTH) for _ in range(4)]
    assert [r.status_code for r in responses] == [500, 500, 200, 200]
    assert responses[0].json()["error"] == "internal_error"
    assert responses[2].headers["content-type"].startswith("text/html")
    assert responses[3].json()["status"] == "shipped"


def test_the_delay_holds_each_answer(fake):
    fake.delay = 0.2
    started = time.monotonic()
    assert get(fake, "1234567890", AUTH).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_stopping_cuts_a_delayed_answer_short():
    fake = FakeOrders(token=TOKEN).start()
    fake.delay = 60
    waiter = threading.Thread(target=lambda: _swallow(lambda: get(fake, "1234567890", AUTH)))
    waiter.start()
    time.sleep(0.1)
    started = time.monotonic()
    fake.stop()
    waiter.join(timeout=10)
    assert time.monotonic() - started < 5
    assert not waiter.is_alive()


def test_requests_are_recorded(fake):
    get(fake, "1234567890", AUTH)
    get(fake, "1234567890")
    assert [(r["order_number"], r["authorized"], r["status"]) for r in fake.requests] == [
        ("1234567890", True, 200),
        ("1234567890", False, 401),
    ]


@pytest.mark.slow
def test_the_command_line_serves_the_demo_orders():
    with FakeOrders() as probe:  # a free port: start and stop a fake on port 0
        port = probe.port
    process = subprocess.Popen(
        [sys.executable, "-m", "fakes.orders", "--port", str(port), "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/orders/{{order_number}}" in line
        response = httpx.get(f"http://127.0.0.1:{port}/orders/1234567890", headers=AUTH)
        assert response.json()["carrier"] == "顺丰速运"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _swallow(call: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        call()
