"""A Weibo private message through the whole pipeline to the reply at the fake Weibo API."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from fakes.weibo import FakeWeibo
from omnidesk.db import get_engine, unit_of_work
from omnidesk.models import DeliveryStatus, Message, QuarantinedPayload, RawPayload, Request, utcnow
from omnidesk.services import respond
from tests.factories import wait_until
from workers.dispatch import DramatiqDispatcher

SECRET = "weibo-flow-app-secret"
TOKEN = "2.00weibo-flow-access-token"
UID = 1902538057
CUSTOMER = 2489518277


@pytest.fixture
def fake_weibo() -> Iterator[FakeWeibo]:
    with FakeWeibo(SECRET, {TOKEN: UID}) as fake:
        yield fake


@pytest.fixture
def weibo_desk(configure, fake_weibo, monkeypatch):
    """A desk with one Weibo connector (`tp-weibo`) pointed at the fake Weibo."""
    monkeypatch.setenv("WEIBO_APP_SECRET", SECRET)
    monkeypatch.setenv("WEIBO_ACCESS_TOKEN", TOKEN)
    return configure(f"""
[[connectors]]
name = "tp-weibo"
channel = "weibo"
app_key = "1234567890"
app_secret = "${{WEIBO_APP_SECRET}}"
access_token = "${{WEIBO_ACCESS_TOKEN}}"
api_base_url = "{fake_weibo.base_url}"
""")


def url(settings) -> str:
    return f"{settings.public_url}/webhooks/tp-weibo"


def rows(settings, table) -> list:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(table)))


def inbound(settings) -> list[Message]:
    return [m for m in rows(settings, Message) if m.direction == "inbound"]


def done(settings) -> bool:
    messages = inbound(settings)
    return bool(messages) and all(m.stage == "done" for m in messages)


def test_weibo_private_message_becomes_a_request_answered_through_the_reply_api(
    weibo_desk, client, worker, fake_weibo
):
    # Given the desk's URL, verified the way Weibo's developer mode does
    assert fake_weibo.verify_url(url(weibo_desk), echostr="dnPdpTZz85")

    # When a customer writes to the account
    push = fake_weibo.push_text(url(weibo_desk), CUSTOMER, "你好，我的订单1234567890什么时候发货？")

    # Then Weibo gets an empty 200 at once, and the acknowledgement goes out by the reply API
    assert push.accepted
    assert push.attempts[0]["body"] == b""
    [sent] = wait_until(lambda: fake_weibo.sent)
    [request] = rows(weibo_desk, Request)
    assert sent["recipient_id"] == CUSTOMER
    assert f"#{request.id}" in sent["data"]["text"]
    assert (request.channel, request.category, request.language) == ("weibo", "order", "zh")
    [message] = inbound(weibo_desk)
    assert (message.sender_kind, message.sender) == ("weibo", str(CUSTOMER))
    wait_until(lambda: done(weibo_desk))
    [ack] = wait_until(
        lambda: [
            m
            for m in rows(weibo_desk, Message)
            if m.direction == "outbound" and m.status == DeliveryStatus.SENT
        ]
    )
    assert (ack.recipient, ack.provider_message_id) == (str(CUSTOMER), sent["idstr"])


def test_duplicate_push_is_one_request_and_one_reply(weibo_desk, client, worker, fake_weibo):
    push = fake_weibo.push_text(url(weibo_desk), CUSTOMER, "我要退货，订单2024112500123")
    # Weibo did not see our answer and sends the byte-identical request again, twice.
    assert fake_weibo.replay(push).accepted
    assert fake_weibo.replay(push).accepted

    wait_until(lambda: done(weibo_desk) and fake_weibo.sent)
    time.sleep(0.3)
    assert len(inbound(weibo_desk)) == 1
    assert len(rows(weibo_desk, Request)) == 1
    assert len(fake_weibo.sent) == 1


def test_forged_or_replayed_pushes_get_403_and_nothing_is_stored(
    weibo_desk, client, worker, fake_weibo
):
    now_ms = int(time.time() * 1000)
    forgeries = [
        {"signature": "0" * 40},  # not signed with our app secret
        {"timestamp": str(now_ms - 3600_000)},  # a captured push replayed an hour later
        {"timestamp": str(now_ms + 3600_000)},  # a timestamp from the future
    ]

    pushes = [fake_weibo.push_text(url(weibo_desk), CUSTOMER, "伪造", **f) for f in forgeries]

    assert [[a["status"] for a in p.attempts] for p in pushes] == [[403, 403, 403]] * 3
    assert rows(weibo_desk, Message) == []
    assert rows(weibo_desk, RawPayload) == []


def test_captured_signature_cannot_carry_another_body(weibo_desk, client, worker, fake_weibo):
    # Weibo signs timestamp and nonce only; a second body under one signature is forged.
    genuine = fake_weibo.push_text(url(weibo_desk), CUSTOMER, "你好")
    body = genuine.body.replace("你好".encode(), "把退款打到这个账户".encode())
    forged = dataclasses.replace(genuine, body=body, attempts=[])

    assert fake_weibo.replay(forged).status == 403
    wait_until(lambda: done(weibo_desk))
    assert [m.text for m in inbound(weibo_desk)] == ["你好"]


def test_url_verification_with_a_bad_signature_gets_403(weibo_desk, client):
    response = client.get(
        "/webhooks/tp-weibo",
        params={
            "signature": "0" * 40,
            "timestamp": str(int(time.time() * 1000)),
            "nonce": "1",
            "echostr": "x",
        },
    )
    assert response.status_code == 403


def test_follow_event_is_stored_but_opens_no_request_and_gets_no_reply(
    weibo_desk, client, worker, fake_weibo
):
    assert fake_weibo.push_event(url(weibo_desk), CUSTOMER, "follow").accepted

    wait_until(lambda: done(weibo_desk))
    [message] = inbound(weibo_desk)
    assert message.automatic == "weibo_event:follow"
    assert message.request_id is None
    assert rows(weibo_desk, Request) == []
    assert fake_weibo.sent == []


def test_signed_push_that_cannot_be_read_is_quarantined_and_not_retried(
    weibo_desk, client, worker, fake_weibo
):
    payload = fake_weibo.payload("text", CUSTOMER, "hi", {}) | {"created_at": "yesterday"}

    push = fake_weibo.push(url(weibo_desk), payload)

    assert push.accepted
    assert len(push.attempts) == 1
    [held] = rows(weibo_desk, QuarantinedPayload)
    assert "created_at" in held.reason
    assert inbound(weibo_desk) == []


def test_reply_outside_the_window_fails_once_with_a_reason_for_the_agent(
    weibo_desk, client, worker, fake_weibo
):
    # Given a request whose customer last wrote 49 hours ago
    fake_weibo.push_text(url(weibo_desk), CUSTOMER, "在吗？我的快递丢了")
    wait_until(lambda: done(weibo_desk) and fake_weibo.sent)
    with unit_of_work(weibo_desk) as session:
        customer_message = session.exec(select(Message).where(Message.direction == "inbound")).one()
        customer_message.received_at = utcnow() - timedelta(hours=49)
        request = session.get(Request, customer_message.request_id)
        agent_reply = respond.queue_reply(
            session, request, customer_message, "您好，快递已经找到了", kind="reply", author="agent"
        )
        reply_id = agent_reply.id

    # When the agent's reply is sent
    DramatiqDispatcher().dispatch("send", reply_id)

    # Then it fails at once, with the reason, without reaching Weibo or being retried
    def failed() -> Message | None:
        with Session(get_engine(weibo_desk)) as session:
            row = session.get(Message, reply_id)
            return row if row is not None and row.status == DeliveryStatus.FAILED else None

    row = wait_until(failed)
    assert row.error_code == "outside_window"
    assert "48 hours" in row.error_reason
    assert row.attempts == 1
    assert len(fake_weibo.sent) == 1  # only the acknowledgement of the first message
