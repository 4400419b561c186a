"""Fixtures of the WeChat connector tests: the fake WeChat, a clean Redis, connectors, replies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from connectors.wechat import WeChatConnector
from connectors.wechat.config import WeChatConfig
from fakes.wechat import FakeWeChat
from omnidesk.connector import ConnectorEnv
from omnidesk.outbound import OutboundReply
from tests.servers.redis import RedisServer

APP_ID, SECRET = "wx0123456789abcdef", "0123456789abcdef0123456789abcdef"
TOKEN, AES_KEY = "omnideskToken2024", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"

MakeConnector = Callable[..., WeChatConnector]


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat(APP_ID, SECRET, token=TOKEN, encoding_aes_key=AES_KEY) as server:
        server.customer_writes(OPENID)
        yield server


@pytest.fixture
def redis_url(redis_srv: RedisServer) -> str:
    redis.Redis.from_url(redis_srv.url).flushall()
    return redis_srv.url


@pytest.fixture
def make_connector(fake: FakeWeChat, redis_url: str, tmp_path: Path) -> MakeConnector:
    """A WeChatConnector on the fake; keyword arguments override config keys (and env)."""

    def build(
        *, redis_at: str | None = redis_url, http_timeout: float = 5.0, **keys: Any
    ) -> WeChatConnector:
        config = WeChatConfig.model_validate(
            {"name": "tp-wechat", "channel": "wechat", "app_id": APP_ID, "app_secret": SECRET,
             "token": TOKEN, "encoding_aes_key": AES_KEY, "api_base_url": fake.base_url} | keys
        )  # fmt: skip
        env = ConnectorEnv(public_url="http://127.0.0.1:8000", data_dir=tmp_path,
                           redis_url=redis_at, http_timeout=http_timeout)  # fmt: skip
        return WeChatConnector(config, env)

    return build


def make_reply(text: str = "您好，我们已收到您的请求 #12。", **overrides: Any) -> OutboundReply:
    fields = {"message_id": 7, "request_id": 12, "to": OPENID, "text": text,
              "last_inbound_at": datetime.now(UTC)} | overrides  # fmt: skip
    return OutboundReply(**fields)
