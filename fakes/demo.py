"""`omnidesk demo`: local fake providers and a stream of realistic, signed customer messages."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog

from fakes.orders import FakeOrders
from fakes.twilio import FakeTwilio, post_webhook, sms_params
from fakes.wechat import FakeWeChat
from fakes.weibo import FakeWeibo

log = structlog.get_logger(__name__)

DEMO_SID = "AC0123456789abcdef0123456789abcdef"
DEMO_TOKEN = "demo-auth-token-not-a-secret"
DEMO_NUMBER = "+15005550006"
WECHAT_APP_ID, WECHAT_SECRET = "wx0123456789abcdef", "demo0123456789abcdef0123456789ab"
WECHAT_TOKEN, WECHAT_AES_KEY = "omnideskDemoToken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WEIBO_APP_KEY, WEIBO_SECRET, WEIBO_ACCESS = "1234567890", "demo-weibo-secret", "demo-weibo-token"
ORDER_TOKEN = "demo-order-token"
DEMO_WEBCHAT = "tp-web"

# (channel, customer, messages in order): the first opens a request, the rest follow up.
CONVERSATIONS: list[tuple[str, str, list[str]]] = [
    (
        "sms",
        "+8613800138000",
        ["你好，我的订单1234567890什么时候发货？", "已经三天了还没有物流信息"],
    ),
    ("wechat", "oDemo-customer-zhang", ["我的订单2024112500123到哪了？", "人工"]),
    ("sms", "+8613912345678", ["收到的鞋子尺码不对，可以换货吗？"]),
    ("weibo", "5566778899", ["我要投诉！快递员态度太差了，包裹还被弄坏了", "再不处理我就打12315"]),
    ("wechat", "oDemo-customer-li", ["请问你们的人工客服几点上班？"]),
    ("sms", "+8613700002222", ["付款的时候扣了两次钱，麻烦帮我退一笔"]),
    ("sms", "+14155550123", ["Hi, where is my order 9876543210? It was due yesterday."]),
    ("weibo", "6677889900", ["这款耳机还有黑色的吗？"]),
    ("sms", "+447700900123", ["I'd like to return a jacket, it doesn't fit. How do I do that?"]),
    ("wechat", "oDemo-customer-wu", ["账号登录不上，密码重置邮件一直收不到"]),
    ("voice", "+8613611112222", ["我想问一下退货的运费谁出"]),
    ("sms", "+16505550111", ["This is the third time I ask: where is my refund??"]),
]


@dataclass
class DemoFakes:
    """Every fake provider the demo runs, and how to post as each channel's customer."""

    twilio: FakeTwilio
    wechat: FakeWeChat
    weibo: FakeWeibo
    orders: FakeOrders

    def stop(self) -> None:
        for fake in (self.twilio, self.wechat, self.weibo, self.orders):
            fake.stop()


def demo_environment(settings: Any, host: str, port: int) -> tuple[dict[str, str], DemoFakes]:
    """Start the fake providers and write the demo's config file; return env for the desk."""
    data_dir = Path(getattr(settings, "data_dir", "var"))
    fakes = DemoFakes(
        twilio=FakeTwilio(accounts={DEMO_SID: DEMO_TOKEN}, numbers={DEMO_SID: [DEMO_NUMBER]}),
        wechat=FakeWeChat(
            WECHAT_APP_ID, WECHAT_SECRET, token=WECHAT_TOKEN, encoding_aes_key=WECHAT_AES_KEY
        ),
        weibo=FakeWeibo(WEIBO_SECRET, tokens={WEIBO_ACCESS: 1900000001}),
        orders=FakeOrders(token=ORDER_TOKEN),
    )
    for fake in (fakes.twilio, fakes.wechat, fakes.weibo, fakes.orders):
        fake.start()
    config = data_dir.resolve() / "demo" / "omnidesk.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(_config_text(fakes, Path.cwd() / "config"), encoding="utf-8")
    public = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    env = {
        "OMNIDESK_CONFIG": str(config),
        "OMNIDESK_PUBLIC_URL": public,
        "TWILIO_AUTH_TOKEN": DEMO_TOKEN,
        "WECHAT_APP_SECRET": WECHAT_SECRET,
        "WECHAT_TOKEN": WECHAT_TOKEN,
        "WECHAT_AES_KEY": WECHAT_AES_KEY,
        "WEIBO_APP_SECRET": WEIBO_SECRET,
        "WEIBO_ACCESS_TOKEN": WEIBO_ACCESS,
        "ORDER_API_TOKEN": ORDER_TOKEN,
    }
    log.info(
        "demo_fakes_started",
        twilio=fakes.twilio.base_url,
        wechat=fakes.wechat.base_url,
        weibo=fakes.weibo.base_url,
        orders=fakes.orders.base_url,
        config=str(config),
    )
    return env, fakes


def _config_text(fakes: DemoFakes, shipped: Path) -> str:
    teams = (shipped / "omnidesk.toml").read_text(encoding="utf-8") if shipped.is_dir() else ""
    knowledge = shipped / "knowledge"
    return f"""# Written by `omnidesk demo`: connectors pointed at local fake providers.
{teams}

[knowledge]
directory = "{knowledge.as_posix()}"

[order_system]
url = "{fakes.orders.url_template}"
headers = {{ Authorization = "Bearer ${{ORDER_API_TOKEN}}" }}

[[connectors]]
name = "tp-sms"
channel = "twilio"
account_sid = "{DEMO_SID}"
auth_token = "${{TWILIO_AUTH_TOKEN}}"
from_number = "{DEMO_NUMBER}"
api_base_url = "{fakes.twilio.base_url}"

[[connectors]]
name = "tp-wechat"
channel = "wechat"
app_id = "{WECHAT_APP_ID}"
app_secret = "${{WECHAT_APP_SECRET}}"
token = "${{WECHAT_TOKEN}}"
encoding_aes_key = "${{WECHAT_AES_KEY}}"
api_base_url = "{fakes.wechat.base_url}"

[[connectors]]
name = "tp-weibo"
channel = "weibo"
app_key = "{WEIBO_APP_KEY}"
app_secret = "${{WEIBO_APP_SECRET}}"
access_token = "${{WEIBO_ACCESS_TOKEN}}"
api_base_url = "{fakes.weibo.base_url}"

# The website chat: the demo shop page /webchat/tp-web/demo is served by the desk itself,
# whose own origin is always allowed.
[[connectors]]
name = "{DEMO_WEBCHAT}"
channel = "webchat"
"""


@dataclass
class DemoTraffic:
    """Posts the conversations' messages as each provider would, one every `interval` seconds."""

    env: dict[str, str]
    fakes: DemoFakes
    count: int = 0
    interval: float = 2.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, name="demo-traffic", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        base = self.env["OMNIDESK_PUBLIC_URL"]
        if not self._wait_for(base):
            return
        sent = 0
        for channel, customer, body in self._messages():
            if self._stop.is_set() or (self.count and sent >= self.count):
                break
            try:
                self._senders(base)[channel](customer, body)
                log.info("demo_message_posted", channel=channel, customer=customer)
            except (httpx.HTTPError, RuntimeError) as exc:
                log.warning("demo_message_failed", channel=channel, error=str(exc))
            sent += 1
            self._stop.wait(self.interval)
        log.info("demo_traffic_done", messages=sent)

    def _senders(self, base: str) -> dict[str, Callable[[str, str], object]]:
        hook = f"{base}/webhooks"
        return {
            "sms": lambda who, text: post_webhook(
                f"{hook}/tp-sms/sms", DEMO_TOKEN, sms_params(DEMO_SID, who, DEMO_NUMBER, text)
            ),
            "wechat": lambda who, text: self.fakes.wechat.push_text(f"{hook}/tp-wechat", who, text),
            "weibo": lambda who, text: self.fakes.weibo.push_text(
                f"{hook}/tp-weibo", int(who), text
            ),
            "voice": lambda who, text: self.fakes.twilio.call(
                f"{hook}/tp-sms/voice", who, DEMO_NUMBER, speech=text
            ),
        }

    def _messages(self) -> Iterator[tuple[str, str, str]]:
        """Each conversation in turn, follow-ups after their openers; then random repeats."""
        for round_ in range(10_000):
            for channel, customer, bodies in CONVERSATIONS:
                if round_ < len(bodies):
                    yield channel, customer, bodies[round_]
            if round_ >= 2:
                channel, _customer, bodies = random.choice(CONVERSATIONS)
                if channel in ("sms", "voice"):
                    yield channel, f"+86135{random.randrange(10**8):08d}", random.choice(bodies)

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
