"""Routing end to end: a late-night WeChat question about an order gets its status at once from
the shop's order system, and the request waits in the order team's queue until the morning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dramatiq
import pytest
import time_machine
from sqlmodel import Session, select

from fakes.orders import FakeOrders
from fakes.wechat import FakeWeChat
from omnidesk.api.app import create_app
from omnidesk.db import get_engine
from omnidesk.models import Event, Request
from tests.factories import (
    WECHAT_AES_KEY,
    WECHAT_APP_ID,
    WECHAT_ENV,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    wait_until,
    wechat_toml,
)
from tests.factories import (
    WECHAT_OPENID as OPENID,
)
from tests.live import LiveServer
from workers.dispatch import DramatiqDispatcher

pytestmark = pytest.mark.clock

ORDER_TOKEN = "order-api-token"
WEDNESDAY_23_BEIJING = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture
def fake_orders() -> Iterator[FakeOrders]:
    with FakeOrders(token=ORDER_TOKEN) as fake:
        yield fake


@pytest.fixture
def desk_settings(configure, fake_orders, monkeypatch):
    fake_wechat = FakeWeChat(
        WECHAT_APP_ID, WECHAT_SECRET, token=WECHAT_TOKEN, encoding_aes_key=WECHAT_AES_KEY
    ).start()
    for name, value in WECHAT_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ORDER_API_TOKEN", ORDER_TOKEN)
    settings = configure(f"""
{wechat_toml(fake_wechat.base_url)}
[order_system]
url = "{fake_orders.url_template}"
headers = {{ Authorization = "Bearer ${{ORDER_API_TOKEN}}" }}

[[teams]]
name = "orders"
categories = ["order"]

[[teams]]
name = "general"

[[agents]]
username = "wang"
teams = ["orders"]
availability = "offline"
""")
    yield settings, fake_wechat
    fake_wechat.stop()


def test_a_late_night_order_question_is_answered_from_the_order_system_and_queued(
    desk_settings, broker
):
    settings, fake_wechat = desk_settings
    with time_machine.travel(WEDNESDAY_23_BEIJING, tick=True):
        worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
        worker.start()
        server = LiveServer(
            create_app(settings, dispatcher=DramatiqDispatcher()),
            int(settings.public_url.rsplit(":", 1)[1]),
        ).start()
        try:
            response = fake_wechat.push_text(
                f"{settings.public_url}/webhooks/tp-wechat",
                OPENID,
                "你好，我的订单1234567890到哪了？",
            )
            assert response is not None
            assert response.text == "success"
            sent = wait_until(lambda: fake_wechat.sent, timeout=30)
        finally:
            server.stop()
            worker.stop()

    answer = sent[0]["content"]
    assert "1234567890" in answer
    assert "已发货" in answer
    assert "SF1234567890123" in answer
    assert "人工" in answer
    with Session(get_engine(settings)) as session:
        request = session.exec(select(Request)).one()
        kinds = [e.kind for e in session.exec(select(Event).where(Event.request_id == request.id))]
    assert (request.category, request.team, request.assignee) == ("order", "orders", None)
    assert "auto_answered" in kinds
    assert "queued" in kinds
    local_due = request.first_response_due.astimezone(ZoneInfo("Asia/Shanghai"))
    assert local_due.date().isoformat() == "2026-11-26"
    assert local_due.hour >= 9
