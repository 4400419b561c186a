"""Demo order service: the shop's order-status endpoint, `GET /orders/{order_number}`.

Answers like a typical shop API: 200 with the order's JSON, 404 for an unknown order, 401 without
the right `Authorization: Bearer <token>`; switches make it slow (timeouts) or fail with 500.
Run it for the demo: `python -m fakes.orders --port 9400 --token demo-order-token`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hmac
import sys
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from fakes._server import BackgroundServer

BEIJING = ZoneInfo("Asia/Shanghai")
DEMO_TOKEN = "demo-order-token"


def demo_orders(today: date | None = None) -> dict[str, dict[str, Any]]:
    """The demo's orders; dates are relative to `today` (Beijing) so "eta tomorrow" stays true."""
    today = today or datetime.now(BEIJING).date()

    def order(
        number: str,
        status: str,
        carrier: str | None,
        tracking: str | None,
        eta: int | None,
        items: list[str],
    ) -> dict[str, Any]:
        return {
            "order_number": number,
            "status": status,
            "carrier": carrier,
            "tracking_number": tracking,
            "eta": (today + timedelta(days=eta)).isoformat() if eta is not None else None,
            "items": items,
        }

    orders = [
        order("1234567890", "shipped", "顺丰速运", "SF1234567890123", 1, ["无线蓝牙耳机 黑色"]),
        order("2024112500123", "delivered", "京东物流", "JDVA00012345678", -2, ["运动鞋 42码"]),
        order("9876543210", "in_transit", "UPS", "1Z999AA10123456784", 0, ["Kettle, blue"]),
        order("5566778899", "delivered", "圆通速递", "YT1234567890123", -5, ["Rain jacket, M"]),
        order("1122334455", "processing", None, None, 3, ["保温杯 500ml"]),
        order("6677889900", "cancelled", None, None, None, ["手机壳"]),
    ]
    return {o["order_number"]: o for o in orders}


class FakeOrders:
    """A local order service. `orders` maps order numbers to the JSON answered (verbatim).

    `token` None accepts any caller; otherwise `Authorization: Bearer <token>` is required.
    `delay` (seconds) is waited before every answer; `fail_next(count)` answers 500 `count`
    times and `garble_next(count)` answers 200 with an HTML error page instead of JSON (what a
    misconfigured proxy returns). `requests` records each request: path, order_number,
    authorized, status.
    """

    def __init__(
        self,
        orders: dict[str, dict[str, Any]] | None = None,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.orders = copy.deepcopy(orders) if orders is not None else demo_orders()
        self.token, self.host, self.port = token, host, port
        self.base_url = ""
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self._failures: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._http: BackgroundServer | None = None
        self.app = Starlette(
            routes=[
                Route("/orders/{order_number}", self._order, methods=["GET"]),
                Route("/healthz", self._health, methods=["GET"]),
            ]
        )

    @property
    def url_template(self) -> str:
        """The `[order_system] url` that points at this fake."""
        return f"{self.base_url}/orders/{{order_number}}"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeOrders:
        """Serve in a daemon thread; return once the port accepts connections."""
        self._http = BackgroundServer(self.app, "fake order service")
        self.port = self._http.start(self.host, self.port)
        self.base_url = f"http://{self.host}:{self.port}"
        return self

    def stop(self) -> None:
        """Stop serving; a request waiting out a delay is cut short."""
        self._stopping.set()
        if self._http is not None:
            self._http.stop()

    def __enter__(self) -> FakeOrders:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------
    def fail_next(self, count: int = 1) -> None:
        """Answer the next `count` authorized order requests with HTTP 500."""
        with self._lock:
            self._failures += ["error"] * count

    def garble_next(self, count: int = 1) -> None:
        """Answer the next `count` authorized order requests with 200 and an HTML page."""
        with self._lock:
            self._failures += ["garble"] * count

    # -- handlers ----------------------------------------------------------------------------
    async def _health(self, request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def _order(self, request: Request) -> Response:
        number = request.path_params["order_number"]
        authorized = self._authorized(request.headers.get("authorization", ""))
        await self._wait()
        response = self._answer(number, authorized)
        record = {"path": request.url.path, "order_number": number, "authorized": authorized}
        with self._lock:
            self.requests.append(record | {"status": response.status_code})
        return response

    def _answer(self, number: str, authorized: bool) -> Response:
        if not authorized:
            body = {"error": "unauthorized", "message": "missing or invalid bearer token"}
            headers = {"WWW-Authenticate": 'Bearer realm="orders"'}
            return JSONResponse(body, status_code=401, headers=headers)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure == "garble":
            return HTMLResponse("<html><body><h1>502 Bad Gateway</h1></body></html>")
        if failure == "error":
            body = {"error": "internal_error", "message": "order service failure"}
            return JSONResponse(body, status_code=500)
        order = self.orders.get(number)
        if order is None:
            body = {"error": "order_not_found", "message": f"no order {number}"}
            return JSONResponse(body, status_code=404)
        return JSONResponse(order)

    def _authorized(self, header: str) -> bool:
        if self.token is None:
            return True
        scheme, _, credentials = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), self.token.encode()
        )

    async def _wait(self) -> None:
        deadline = time.monotonic() + self.delay
        while time.monotonic() < deadline and not self._stopping.is_set():
            await asyncio.sleep(min(0.01, max(0.0, deadline - time.monotonic())))


def main(argv: list[str] | None = None) -> None:
    """Serve the demo orders until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9400)
    parser.add_argument("--token", default=DEMO_TOKEN, help="bearer token ('' accepts anyone)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    fake = FakeOrders(token=args.token or None, host=args.host, port=args.port)
    fake.delay = args.delay
    fake.start()
    sys.stdout.write(f"demo order service on {fake.url_template} ({len(fake.orders)} orders)\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
