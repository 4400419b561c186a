"""`omnidesk demo`: local fake providers and a stream of realistic, signed customer messages."""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog

from fakes.twilio import FakeTwilio, post_webhook, sms_params

log = structlog.get_logger(__name__)

DEMO_SID = "AC0123456789abcdef0123456789abcdef"
DEMO_TOKEN = "demo-auth-token-not-a-secret"
DEMO_NUMBER = "+15005550006"

# (customer number, messages in order): first opens a request, the rest follow up on it.
CONVERSATIONS: list[tuple[str, list[str]]] = [
    ("+8613800138000", ["你好，我的订单1234567890什么时候发货？", "已经三天了还没有物流信息"]),
    ("+8613912345678", ["收到的鞋子尺码不对，可以换货吗？订单号2024112500123"]),
    ("+8615088886666", ["我要投诉！快递员态度太差了，包裹还被弄坏了", "再不处理我就打12315"]),
    ("+8618600001111", ["请问你们的人工客服几点上班？"]),
    ("+8613700002222", ["付款的时候扣了两次钱，麻烦帮我退一笔"]),
    ("+14155550123", ["Hi, where is my order 9876543210? It was due yesterday."]),
    (
        "+447700900123",
        ["I'd like to return a jacket, it doesn't fit. How do I do that?", "Order 5566778899"],
    ),
    ("+12125550199", ["I can't log in to my account, password reset email never arrives"]),
    ("+8613611112222", ["这款耳机还有货吗？黑色的"]),
    ("+61412345678", ["Is the blue kettle in stock? Do you ship to Australia?"]),
    ("+8613522223333", ["谢谢，问题已经解决了 👍"]),
    ("+16505550111", ["This is the third time I ask: where is my refund??"]),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_environment(
    settings: object, host: str, port: int
) -> tuple[dict[str, str], list[FakeTwilio]]:
    """Start the fake providers and write the demo's config file; return env for the desk."""
    data_dir = Path(getattr(settings, "data_dir", "var"))
    twilio = FakeTwilio(accounts={DEMO_SID: DEMO_TOKEN}, numbers={DEMO_SID: [DEMO_NUMBER]}).start()
    config = data_dir.resolve() / "demo" / "omnidesk.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "# Written by `omnidesk demo`: connectors pointed at local fake providers.\n"
        '[desk]\nname = "TP官方客服"\nname_en = "TP Customer Service"\n\n'
        '[[connectors]]\nname = "tp-sms"\nchannel = "twilio"\n'
        f'account_sid = "{DEMO_SID}"\nauth_token = "${{TWILIO_AUTH_TOKEN}}"\n'
        f'from_number = "{DEMO_NUMBER}"\napi_base_url = "{twilio.base_url}"\n',
        encoding="utf-8",
    )
    public = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    env = {
        "OMNIDESK_CONFIG": str(config),
        "OMNIDESK_PUBLIC_URL": public,
        "TWILIO_AUTH_TOKEN": DEMO_TOKEN,
    }
    log.info("demo_fakes_started", twilio=twilio.base_url, config=str(config))
    return env, [twilio]


@dataclass
class DemoTraffic:
    """Posts the conversations' messages as Twilio would, one every `interval` seconds."""

    env: dict[str, str]
    count: int = 0
    interval: float = 2.0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        base = self.env["OMNIDESK_PUBLIC_URL"]
        if not self._wait_for(base):
            return
        sent = 0
        for number, body in self._messages():
            if self._stop.is_set() or (self.count and sent >= self.count):
                break
            url = f"{base}/webhooks/tp-sms/sms"
            params = sms_params(DEMO_SID, number, DEMO_NUMBER, body)
            try:
                response = post_webhook(url, DEMO_TOKEN, params)
                log.info("demo_sms_posted", sender=number, status=response.status_code)
            except httpx.HTTPError as exc:
                log.warning("demo_sms_failed", error=str(exc))
            sent += 1
            self._stop.wait(self.interval)
        log.info("demo_traffic_done", messages=sent)

    def _messages(self):  # type: ignore[no-untyped-def]
        """Each conversation in turn, follow-ups after their openers; then random repeats."""
        for round_ in range(10_000):
            for number, bodies in CONVERSATIONS:
                if round_ < len(bodies):
                    yield number, bodies[round_]
            if round_ >= 2:
                number, bodies = random.choice(CONVERSATIONS)
                yield f"+86135{random.randrange(10**8):08d}", random.choice(bodies)

    def _wait_for(self, base: str) -> bool:
        deadline = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        return False
