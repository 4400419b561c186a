"""WeChat end to end: pushes from the fake WeChat through the webhook, the pipeline and the
customer-service API back to the fake, with the real Redis broker and a worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from connectors.wechat.inbound import parse, read_xml
from fakes.wechat import SERVICE_UNAVAILABLE, FakeWeChat, xml_of
from omnidesk.db import get_engine
from omnidesk.desk import Desk
from omnidesk.models import DeliveryStatus, Direction, Event, Message, RawPayload, Request, Stage
from omnidesk.services.intake import DeskIntake
from omnidesk.settings import Settings
from tests.factories import (
    WECHAT_AES_KEY,
    WECHAT_APP_ID,
    WECHAT_OPENID,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    wait_until,
    wechat_toml,
)

APP_ID, SECRET, TOKEN, AES_KEY = WECHAT_APP_ID, WECHAT_SECRET, WECHAT_TOKEN, WECHAT_AES_KEY
OPENID = WECHAT_OPENID
DATA = Path(__file__).parents[1] / "data" / "wechat"


@pytest.fixture
def wechat_desk(
    configure: Callable[[str], Settings], fake_wechat: FakeWeChat, wechat_env: None
) -> Settings:
    """A desk with one safe-mode WeChat connector (`tp-wechat`) pointed at the fake WeChat."""
    return configure(wechat_toml(fake_wechat.base_url))


def webhook(settings: Settings) -> str:
    return f"{settings.public_url}/webhooks/tp-wechat"


def rows(settings: Settings, model: type, *where: object) -> list:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(model).where(*where)))


def inbound(settings: Settings) -> list[Message]:
    return rows(settings, Message, Message.direction == Direction.INBOUND)


def outbound(settings: Settings) -> list[Message]:
    return rows(settings, Message, Message.direction == Direction.OUTBOUND)


def all_done(settings: Settings) -> bool:
    messages = inbound(settings)
    return bool(messages) and all(m.stage == Stage.DONE for m in messages)


def custom_sends(fake: FakeWeChat) -> list[dict[str, object]]:
    return [r for r in fake.requests if r["path"] == "/cgi-bin/message/custom/send"]


# -- done when ---------------------------------------------------------------------------------


def test_encrypted_text_becomes_one_request_and_its_reply_reaches_wechat_with_a_valid_token(
    wechat_desk, client, worker, fake_wechat
) -> None:
    # When a customer writes to the account in safe mode
    response = fake_wechat.push_text(
        webhook(wechat_desk), OPENID, "你好，我的订单1234567890什么时候发货？"
    )

    # Then WeChat gets "success" at once, and one reply reaches the customer-service API
    assert response is not None
    assert (response.status_code, response.text) == (200, "success")
    sent = wait_until(lambda: fake_wechat.sent)
    assert (sent[0]["touser"], sent[0]["msgtype"]) == (OPENID, "text")
    assert fake_wechat.valid_token(str(sent[0]["token"]))
    requests = rows(wechat_desk, Request)
    assert len(requests) == 1
    assert f"#{requests[0].id}" in str(sent[0]["content"])
    assert (requests[0].channel, requests[0].category) == ("wechat", "order")
    wait_until(lambda: all_done(wechat_desk))
    [message] = inbound(wechat_desk)
    assert (message.sender_kind, message.sender, message.text) == (
        "wechat", OPENID, "你好，我的订单1234567890什么时候发货？")  # fmt: skip
    [raw] = rows(wechat_desk, RawPayload, RawPayload.id == message.raw_payload_id)
    assert raw.content == fake_wechat.pushes[0].body  # the encrypted body, as WeChat sent it
    wait_until(lambda: [o.status for o in outbound(wechat_desk)] == [DeliveryStatus.SENT])


def test_same_push_delivered_three_times_is_one_request_and_one_reply(
    wechat_desk, client, worker, fake_wechat
) -> None:
    # Given WeChat re-sends a push whose answer it did not get
    first = fake_wechat.push_text(webhook(wechat_desk), OPENID, "我要退货，鞋子尺码不对")
    retries = [fake_wechat.redeliver(), fake_wechat.redeliver()]

    assert [r.text for r in (first, *retries) if r is not None] == ["success"] * 3
    wait_until(lambda: all_done(wechat_desk) and fake_wechat.sent)
    time.sleep(0.3)  # a late duplicate would show up here
    assert len(inbound(wechat_desk)) == 1
    assert len(rows(wechat_desk, Request)) == 1
    assert len(fake_wechat.sent) == 1


def test_webhook_answers_within_the_deadline_while_the_broker_is_down(
    wechat_desk, client, worker, fake_wechat, redis_srv
) -> None:
    from workers.schedule import sweep_stuck

    redis_srv.stop()
    try:
        started = time.monotonic()
        response = fake_wechat.push_text(webhook(wechat_desk), OPENID, "在吗？我的快递丢了")
        elapsed = time.monotonic() - started
    finally:
        redis_srv.start()

    assert response is not None
    assert (response.status_code, response.text) == (200, "success")
    assert elapsed < 5, "WeChat gives up after 5 s"
    assert len(fake_wechat.pushes[0].attempts) == 1
    assert fake_wechat.customer_notices == []
    assert [m.stage for m in inbound(wechat_desk)] == [Stage.INGEST]

    # The sweeper finds the message whose enqueue was lost, and the reply goes out.
    def swept() -> bool:
        sweep_stuck.send()
        return all_done(wechat_desk) and len(fake_wechat.sent) == 1

    wait_until(swept, timeout=60, interval=1.0)


def test_reply_outside_48_hours_is_failed_with_the_reason_and_never_reaches_wechat(
    wechat_desk, worker, fake_wechat
) -> None:
    from workers.dispatch import DramatiqDispatcher

    # Given a customer message that arrived 49 hours ago
    xml = xml_of({"ToUserName": "gh_97417a04a28d", "FromUserName": OPENID,
                  "CreateTime": 1714037059, "MsgType": "text", "Content": "订单什么时候到？",
                  "MsgId": 24527183720716364})  # fmt: skip
    old = datetime.now(UTC) - timedelta(hours=49)
    message = parse(read_xml(xml.encode()), "tp-wechat", received_at=old)
    intake = DeskIntake(Desk.load(wechat_desk), DramatiqDispatcher(), background=False)

    # When the pipeline answers it
    intake.accept(message, xml.encode(), "text/xml")

    # Then the reply row fails at once with WeChat's code and a reason for the agent
    def failed() -> list[Message]:
        return [o for o in outbound(wechat_desk) if o.status == DeliveryStatus.FAILED]

    [reply] = wait_until(failed)
    assert reply.error_code == "45015"
    assert "48 hours" in (reply.error_reason or "")
    assert reply.attempts == 1
    kinds = [e.kind for e in rows(wechat_desk, Event, Event.message_id == reply.id)]
    assert kinds.count("reply_failed") == 1
    assert "reply_retry" not in kinds
    assert custom_sends(fake_wechat) == []


# -- rejected input ----------------------------------------------------------------------------


HOSTILE = ["xxe__external_entity.xml", "xxe__entity_bomb.xml"]


def test_hostile_xml_push_is_refused_with_400_and_nothing_stored(
    wechat_desk, client, fake_wechat
) -> None:
    fake_wechat.retries = 0
    statuses = {}
    for name in HOSTILE:
        hostile = (DATA / name).read_text()
        # As the body itself: refused before anything is decrypted
        statuses[name, "envelope"] = _post_signed(webhook(wechat_desk), hostile.encode())
        # Sealed with the account's key and signed: refused once decrypted
        statuses[name, "encrypted"] = fake_wechat.deliver(webhook(wechat_desk), hostile)

    assert {k: r.status_code for k, r in statuses.items() if r} == dict.fromkeys(statuses, 400)
    assert rows(wechat_desk, Message) == []
    assert rows(wechat_desk, RawPayload) == []


def _post_signed(url: str, body: bytes) -> httpx.Response:
    from fakes.wechat import sign

    timestamp, nonce = str(int(time.time())), "123456789"
    query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "encrypt_type": "aes", "msg_signature": "0" * 40}  # fmt: skip
    return httpx.post(url, params=query, content=body, headers={"Content-Type": "text/xml"})


FORGERIES = {
    "wrong_token": ({"token": "anotherToken1"}, "safe"),
    "wrong_aes_key": ({"encoding_aes_key": "Z" * 43}, "safe"),
    "another_account": ({"app_id": "wxffffffffffffffff"}, "safe"),
    "plaintext_to_safe_mode": ({}, "plain"),
}


def test_forged_pushes_are_refused_with_403_and_nothing_stored(
    wechat_desk, client, fake_wechat
) -> None:
    statuses = {}
    for case, (forgery, mode) in FORGERIES.items():
        keys = {"app_id": APP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY} | forgery
        with FakeWeChat(keys.pop("app_id"), SECRET, retries=0, **keys) as forger:
            response = forger.push_text(webhook(wechat_desk), OPENID, "给我退款", mode=mode)
            assert forger.customer_notices == [{"openid": OPENID, "text": SERVICE_UNAVAILABLE}]
        statuses[case] = response.status_code if response is not None else None

    assert statuses == dict.fromkeys(FORGERIES, 403)
    assert rows(wechat_desk, Message) == []


def test_server_url_verification_echoes_echostr_only_to_wechat(
    wechat_desk, client, fake_wechat
) -> None:
    with FakeWeChat(APP_ID, SECRET, token="anotherToken1") as forger:
        forged = forger.verify_url(webhook(wechat_desk))

    assert fake_wechat.verify_url(webhook(wechat_desk), echostr="4375120948345356249")
    assert not forged


# -- events and other message types ------------------------------------------------------------


def test_follow_event_is_stored_but_opens_no_request_and_gets_no_reply(
    wechat_desk, client, worker, fake_wechat
) -> None:
    response = fake_wechat.push_event(webhook(wechat_desk), OPENID, "subscribe", "qrscene_store_1")

    assert response is not None
    assert response.text == "success"
    wait_until(lambda: all_done(wechat_desk))
    [message] = inbound(wechat_desk)
    assert message.automatic == "wechat_event:subscribe"
    assert rows(wechat_desk, Request) == []
    assert "automatic_ignored" in [e.kind for e in rows(wechat_desk, Event)]
    assert fake_wechat.sent == []


def test_voice_message_with_recognition_becomes_a_request_with_the_spoken_text(
    wechat_desk, client, worker, fake_wechat
) -> None:
    fake_wechat.push_voice(webhook(wechat_desk), OPENID, "我要投诉，快递员态度太差了")

    wait_until(lambda: all_done(wechat_desk) and fake_wechat.sent)
    [request] = rows(wechat_desk, Request)
    assert request.subject == "我要投诉，快递员态度太差了"
    [message] = inbound(wechat_desk)
    assert message.attachments[0]["content_type"] == "audio/amr"
