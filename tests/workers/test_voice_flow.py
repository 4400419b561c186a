"""Phone calls through the whole pipeline: greetings, voicemail, missed calls, SMS replies."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import time

import httpx
import pytest
from sqlmodel import Session, select

from fakes.twilio import post_webhook, voice_params
from omnidesk.api.app import create_app
from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.models import Message, Request
from omnidesk.services import respond
from omnidesk.services.hours import BusinessHours
from tests.factories import TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN, wait_until
from tests.live import LiveServer
from workers.dispatch import DramatiqDispatcher

CALLER_ZH = "+8613800138000"
CALLER_EN = "+14155550123"
ALWAYS_OPEN = BusinessHours(
    opens=time(0), closes=time(23, 59, 59, 999999), workdays=frozenset(range(7))
)
NEVER_OPEN = BusinessHours(workdays=frozenset())


@pytest.fixture
def hours() -> BusinessHours:
    return ALWAYS_OPEN


@pytest.fixture
def voice_client(twilio_desk, broker, hours) -> Iterator[httpx.Client]:
    """The API on its public URL, its connectors given the desk's hours the way the proposed
    Desk.load change does: `ConnectorEnv.extras["business_hours"]`."""
    desk = Desk.load(twilio_desk)
    desk.env = dataclasses.replace(desk.env, extras={"business_hours": hours})
    for table in desk.config.connectors:
        connector = desk.registry.build(table, desk.env)
        desk.connectors[connector.config.name] = connector
    app = create_app(twilio_desk, desk=desk, dispatcher=DramatiqDispatcher())
    server = LiveServer(app, int(twilio_desk.public_url.rsplit(":", 1)[1])).start()
    with httpx.Client(base_url=twilio_desk.public_url, timeout=30) as http:
        yield http
    server.stop()


def voice_url(settings, path: str = "") -> str:
    return f"{settings.public_url}/webhooks/tp-sms/voice{path}"


def inbound(settings) -> list[Message]:
    with Session(get_engine(settings)) as session:
        stmt = select(Message).where(Message.direction == "inbound").order_by(Message.id)
        return list(session.exec(stmt))


def requests(settings) -> list[Request]:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(Request)))


def done(settings, count: int = 1) -> bool:
    messages = inbound(settings)
    return len(messages) >= count and all(m.stage == "done" for m in messages)


def test_call_with_a_voicemail_becomes_a_request_with_its_transcript_and_recording(
    twilio_desk, voice_client, worker, fake_twilio
):
    # When an English-speaking customer calls, says nothing at the prompt, and leaves a message
    call = fake_twilio.call(
        voice_url(twilio_desk), CALLER_EN, TWILIO_NUMBER, record_seconds=25,
        transcription="Hi, my parcel for order 1234567890 never arrived, please call me.",
        hold_transcription=True,
    )  # fmt: skip
    wait_until(lambda: done(twilio_desk))
    # …and Twilio's transcription arrives a while later
    assert [r.status_code for r in fake_twilio.deliver_pending(call)] == [204]
    wait_until(lambda: done(twilio_desk, 2))

    # Then the caller heard the greeting, the voicemail prompt and the thanks, in English
    assert call.errors == []
    assert [language for language, _ in call.said] == ["en-US"] * 3
    assert "leave a message" in call.texts[1]
    # And one request holds the voicemail (audio attached) and its transcript
    [request] = requests(twilio_desk)
    voicemail, transcript = inbound(twilio_desk)
    assert {voicemail.request_id, transcript.request_id} == {request.id}
    assert voicemail.attachments[0]["url"].endswith(call.recording_sid)
    assert voicemail.attachments[0]["content_type"] == "audio/wav"
    assert transcript.text.startswith("Hi, my parcel for order 1234567890")
    assert (voicemail.sender_kind, voicemail.sender) == ("phone", CALLER_EN)
    # And the acknowledgement went to the caller by SMS
    [sms] = wait_until(lambda: fake_twilio.messages)
    assert (sms["to"], sms["from"]) == (CALLER_EN, TWILIO_NUMBER)
    assert f"#{request.id}" in sms["body"]


@pytest.mark.parametrize("hours", [NEVER_OPEN], ids=["out-of-hours"])
def test_out_of_hours_call_hears_the_out_of_hours_greeting(
    twilio_desk, voice_client, worker, fake_twilio, hours
):
    call = fake_twilio.call(
        voice_url(twilio_desk), CALLER_ZH, TWILIO_NUMBER, speech="我的订单1234567890到哪了"
    )

    language, greeting = call.said[0]
    assert language == "cmn-CN"
    assert "非工作时间" in greeting
    assert "09:00到18:00" in greeting
    assert call.gathered[0]["language"] == "zh-CN"
    # What the caller said becomes the request.
    wait_until(lambda: done(twilio_desk))
    [message] = inbound(twilio_desk)
    assert message.text == "我的订单1234567890到哪了"
    assert message.provider_message_id == f"call:{call.call_sid}:speech"


def test_in_hours_call_hears_the_in_hours_greeting(twilio_desk, voice_client, fake_twilio):
    call = fake_twilio.call(voice_url(twilio_desk), CALLER_ZH, TWILIO_NUMBER, hangup=True)

    assert len(call.said) == 1
    assert "非工作时间" not in call.texts[0]
    assert "请简要说出您的问题" in call.texts[0]


def test_silent_call_becomes_a_callback_request(twilio_desk, voice_client, worker, fake_twilio):
    # When a caller says nothing and leaves no voicemail
    call = fake_twilio.call(voice_url(twilio_desk), CALLER_ZH, TWILIO_NUMBER)

    # Then Twilio skips the Record action, follows the Redirect, and hears the goodbye
    assert call.posted("/voice/recorded") == []
    assert len(call.posted("/voice/silent")) == 1
    assert "回电" in call.texts[-1]
    wait_until(lambda: done(twilio_desk))
    [request] = requests(twilio_desk)
    assert request.subject == f"回电 Call back {CALLER_ZH}"
    [message] = inbound(twilio_desk)
    assert message.provider_message_id == f"call:{call.call_sid}"


def test_missed_call_becomes_a_callback_request_once(
    twilio_desk, voice_client, worker, fake_twilio
):
    status_url = voice_url(twilio_desk, "/status")
    params = voice_params(TWILIO_SID, CALLER_ZH, TWILIO_NUMBER, call_status="no-answer")

    # The status callback arrives twice (Twilio retries), and a completed call stores nothing.
    for _ in range(2):
        assert post_webhook(status_url, TWILIO_TOKEN, params).status_code == 204
    assert fake_twilio.missed_call(status_url, CALLER_EN, TWILIO_NUMBER, "completed").is_success

    wait_until(lambda: done(twilio_desk))
    [message] = inbound(twilio_desk)
    assert message.provider_message_id == f"call:{params['CallSid']}"
    assert "Missed call from +8613800138000, please call back" in message.text
    [request] = requests(twilio_desk)
    assert request.subject.startswith("回电 Call back")


def test_reply_to_a_phone_request_reaches_fake_twilio_as_an_sms_to_the_caller(
    twilio_desk, voice_client, worker, fake_twilio
):
    fake_twilio.call(voice_url(twilio_desk), CALLER_ZH, TWILIO_NUMBER, speech="我要退货")
    wait_until(lambda: done(twilio_desk) and fake_twilio.messages)

    # When an agent answers the phone request
    with unit_of_work(twilio_desk) as session:
        [spoken] = session.exec(select(Message).where(Message.direction == "inbound")).all()
        request = session.get(Request, spoken.request_id)
        reply = respond.queue_reply(
            session,
            request,
            spoken,
            "您好，退货地址已通过短信发给您。",
            kind="reply",
            author="agent",
        )
        reply_id = reply.id
    DramatiqDispatcher().dispatch("send", reply_id)

    # Then it goes out as an SMS from our number to the caller's
    sms = wait_until(lambda: [m for m in fake_twilio.messages if "退货地址" in m["body"]])
    assert (sms[0]["to"], sms[0]["from"]) == (CALLER_ZH, TWILIO_NUMBER)


def test_forged_call_webhooks_get_403_and_nothing_is_stored(twilio_desk, voice_client, fake_twilio):
    params = voice_params(TWILIO_SID, CALLER_ZH, TWILIO_NUMBER) | {"SpeechResult": "伪造"}
    paths = ["", "/gather", "/recorded", "/silent", "/recording", "/transcription", "/status"]

    statuses = [
        post_webhook(voice_url(twilio_desk, path), "not-the-auth-token", params).status_code
        for path in paths
    ]

    assert statuses == [403] * len(paths)
    assert inbound(twilio_desk) == []
