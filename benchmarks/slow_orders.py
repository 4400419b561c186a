"""A slow shop system must not stall the desk: webhooks while the order API takes 2.5 s.

Starts `omnidesk up` (embedded defaults unless OMNIDESK_DATABASE_URL / OMNIDESK_REDIS_URL are
set) with a Twilio SMS connector on the fake Twilio and `[order_system]` on the demo order
service. Customers ask "where is my order 1234567890?" at a steady rate, each from their own
number. First the order service answers at once (the baseline, same run), then after `--delay`
seconds. For each phase it prints the webhook's answer time (p50, p99, failures), the time
from webhook to the reply at the fake Twilio, and whether every customer got exactly one reply
with the order's live status.

    python benchmarks/slow_orders.py [--rate 10] [--customers 80] [--delay 2.5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._up import NUMBER, SID, TOKEN, omnidesk_up, sms_connector  # noqa: E402
from fakes.orders import FakeOrders  # noqa: E402
from fakes.twilio import FakeTwilio, sign, sms_params  # noqa: E402

ORDERS = {"1234567890": "SF1234567890123", "9876543210": "1Z999AA10123456784"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] if ordered else float("nan")
    )


def phase(
    name: str, hook: str, twilio: FakeTwilio, first: int, customers: int, rate: float
) -> None:
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    phones = [f"+86137{first + n:08d}" for n in range(customers)]

    def send(n: int) -> None:
        number = list(ORDERS)[n % len(ORDERS)]
        params = sms_params(SID, phones[n], NUMBER, f"你好，我的订单{number}到哪了？")
        headers = {"X-Twilio-Signature": sign(TOKEN, hook, params)}
        start = time.monotonic()
        with lock:
            sent_at[phones[n]] = start
        try:
            answer = httpx.post(hook, data=params, headers=headers, timeout=15)
            ok = answer.status_code == 200
        except httpx.HTTPError as exc:
            ok, answer = False, exc
        with lock:
            latencies.append(time.monotonic() - start)
            if not ok:
                failures.append(str(answer))

    begin = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n in range(customers):
            time.sleep(max(0.0, begin + n / rate - time.monotonic()))
            pool.submit(send, n)
    deadline = time.monotonic() + 120
    mine = set(phones)
    while time.monotonic() < deadline:
        replies = [m for m in list(twilio.messages) if m.get("to") in mine]
        if len({m["to"] for m in replies}) == customers:
            break
        time.sleep(0.2)
    replies = [m for m in list(twilio.messages) if m.get("to") in mine]
    seen: dict[str, float] = {}
    for message in replies:  # the fake records in arrival order; the first reply's time
        seen.setdefault(message["to"], message.get("_received_monotonic", time.monotonic()))
    counts = Counter(m["to"] for m in replies)
    live = sum(1 for m in replies if any(t in m.get("body", "") for t in ORDERS.values()))
    to_reply = [seen[p] - sent_at[p] for p in seen if p in sent_at]
    print(f"\n{name}: {customers} customers at {rate:g} webhooks/s")
    print(f"  webhook answered  p50 {statistics.median(latencies) * 1000:7.0f} ms   "
          f"p99 {percentile(latencies, 0.99) * 1000:7.0f} ms   failed {len(failures)}")  # fmt: skip
    if to_reply:
        print(f"  reply at Twilio   p50 {statistics.median(to_reply):7.2f} s    "
              f"p99 {percentile(to_reply, 0.99):7.2f} s    last {max(to_reply):.2f} s")  # fmt: skip
    doubled = sum(1 for c in counts.values() if c > 1)
    print(f"  answered {len(counts)}/{customers}, twice {doubled}, with the live status {live}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--customers", type=int, default=80)
    parser.add_argument("--delay", type=float, default=2.5)
    args = parser.parse_args()
    twilio = FakeTwilio(accounts={SID: TOKEN}, numbers={SID: [NUMBER]}, test_credentials=True)
    with tempfile.TemporaryDirectory() as tmp, twilio, FakeOrders(token="shop-token") as shop:
        _stamp_arrivals(twilio)
        config = (
            f'[order_system]\nurl = "{shop.url_template}"\n'
            'headers = { Authorization = "Bearer ${ORDER_API_TOKEN}" }\n\n'
        ) + sms_connector(twilio.base_url)
        env = {"ORDER_API_TOKEN": "shop-token"}
        embedded = "OMNIDESK_DATABASE_URL" not in os.environ
        with omnidesk_up(tmp, config, env, embedded=embedded) as (_up, url):
            hook = f"{url}/webhooks/tp-sms/sms"
            phase("warm-up (not counted)", hook, twilio, 9_000, 10, args.rate)
            shop.delay = 0.0
            fast = "order API answering at once (baseline)"
            phase(fast, hook, twilio, 0, args.customers, args.rate)
            shop.delay = args.delay
            slow = f"order API answering in {args.delay:g} s"
            phase(slow, hook, twilio, 1_000, args.customers, args.rate)


def _stamp_arrivals(twilio: FakeTwilio) -> None:
    """Note when each message reached the fake Twilio (its list is appended as they arrive)."""

    class Stamped(list):  # type: ignore[type-arg]
        def append(self, item: dict) -> None:  # type: ignore[override]
            item["_received_monotonic"] = time.monotonic()
            super().append(item)

    twilio.messages = Stamped(twilio.messages)


if __name__ == "__main__":
    main()
