"""Phone calls: TwiML per hours and language, call webhooks parsed (pure), the fake call driver."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
from defusedxml import ElementTree
from twilio.request_validator import RequestValidator

from connectors.twilio import inbound, voice
from fakes.twilio import FakeTwilio
from omnidesk.errors import BadPayload, PermanentSendError, TransientError
from omnidesk.inbound import Attachment, Sender
from omnidesk.services.hours import BusinessHours
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_10 = datetime(2024, 3, 5, 10, 0, tzinfo=SHANGHAI)
TUESDAY_20 = datetime(2024, 3, 5, 20, 0, tzinfo=SHANGHAI)
SATURDAY_10 = datetime(2024, 3, 9, 10, 0, tzinfo=SHANGHAI)
URLS = voice.CallUrls("https://desk.example/webhooks/tp-sms/voice")
HOURS = BusinessHours()
CALL = "CA" + "1" * 32
ACCOUNT = "AC" + "0" * 32
CALLER_ZH, CALLER_EN, OUR_NUMBER = "+8613800138000", "+14155550123", "+15005550006"


def twiml(document: str):
    root = ElementTree.fromstring(document)
    assert root.tag == "Response"
    return root


# -- language and hours -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "setting", "language"),
    [
        ("+8613800138000", "auto", "zh"),
        ("+85291234567", "auto", "zh"),
        ("+85361234567", "auto", "zh"),
        ("+886912345678", "auto", "zh"),
        ("+14155550123", "auto", "en"),
        ("+447700900123", "auto", "en"),
        ("+8613800138000", "en", "en"),
        ("+14155550123", "zh", "zh"),
    ],
)
def test_caller_language_follows_the_country_code_unless_set(number, setting, language):
    assert voice.caller_language(number, setting) == language


@pytest.mark.parametrize(
    ("at", "is_open"), [(TUESDAY_10, True), (TUESDAY_20, False), (SATURDAY_10, False)]
)
def test_desk_hours_decide_the_greeting(at, is_open):
    root = twiml(voice.answer_call("zh", HOURS.is_open(at), HOURS, URLS))

    [say] = root.find("Gather").findall("Say")
    assert ("非工作时间" in say.text) is not is_open
    if not is_open:
        assert "09:00到18:00" in say.text


def test_out_of_hours_english_greeting_says_when_the_desk_opens():
    closed = voice.greeting("en", HOURS.is_open(SATURDAY_10), HOURS)
    opened = voice.greeting("en", HOURS.is_open(TUESDAY_10), HOURS)

    assert "closed" in closed
    assert "from 09:00 to 18:00" in closed
    assert "closed" not in opened


def test_greeting_uses_the_desk_s_own_hours_and_name():
    hours = BusinessHours(opens=time(8, 30), closes=time(20, 0))
    text = voice.greeting("zh", False, hours, "TP商城客服")
    assert "TP商城客服" in text
    assert "08:30到20:00" in text


@pytest.mark.parametrize(
    ("extras", "zone"),
    [
        ({"business_hours": BusinessHours(time_zone="Europe/Paris")}, "Europe/Paris"),
        ({"time_zone": "America/New_York"}, "America/New_York"),
        ({}, "Asia/Shanghai"),
    ],
)
def test_connector_reads_the_desk_hours_from_env_extras(extras, zone):
    assert voice.business_hours(extras).time_zone == zone


# -- TwiML ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "gather_language", "say_language", "voice_name"),
    [("zh", "zh-CN", "cmn-CN", "Polly.Zhiyu"), ("en", "en-US", "en-US", "Polly.Joanna")],
)
def test_call_is_answered_with_a_speech_gather_in_the_caller_s_language(
    language, gather_language, say_language, voice_name
):
    gather = twiml(voice.answer_call(language, True, HOURS, URLS)).find("Gather")

    assert gather.attrib == {
        "input": "speech", "language": gather_language, "speechTimeout": "auto",
        "actionOnEmptyResult": "true", "action": f"{URLS.base}/gather", "method": "POST",
        "timeout": "5",
    }  # fmt: skip
    say = gather.find("Say")
    assert (say.get("language"), say.get("voice")) == (say_language, voice_name)


def test_chinese_voicemail_is_recorded_without_transcription_and_keeps_the_caller():
    root = twiml(voice.ask_voicemail("zh", URLS, CALLER_ZH, OUR_NUMBER, 110))

    assert [verb.tag for verb in root] == ["Say", "Record", "Redirect"]
    record = root.find("Record")
    assert "transcribe" not in record.attrib
    assert record.get("maxLength") == "110"
    assert record.get("action") == f"{URLS.base}/recorded"
    assert record.get("recordingStatusCallback") == (
        f"{URLS.base}/recording?from=%2B8613800138000&to=%2B15005550006"
    )
    # Reached only when the recording is empty: the silent call.
    assert root.find("Redirect").text == f"{URLS.base}/silent"


def test_english_voicemail_asks_twilio_for_a_transcript():
    record = twiml(voice.ask_voicemail("en", URLS, CALLER_EN, OUR_NUMBER, 110)).find("Record")
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == f"{URLS.base}/transcription"


def test_goodbye_says_its_line_and_hangs_up():
    root = twiml(voice.goodbye("en", "thanks_voicemail"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"]


def test_an_sms_the_number_cannot_take_becomes_a_callback_task():
    landline = voice.as_callback_task(PermanentSendError("21614", "not a mobile"), CALLER_ZH)
    blocked = PermanentSendError("21610", "opted out")
    transient = TransientError("later")

    assert "call the customer back on +8613800138000" in landline.reason
    assert voice.as_callback_task(blocked, CALLER_ZH) is blocked
    assert voice.as_callback_task(transient, CALLER_ZH) is transient


# -- call webhooks parsed -------------------------------------------------------------------


def call_params(**extra: str) -> dict[str, str]:
    return {"CallSid": CALL, "AccountSid": ACCOUNT, "From": CALLER_ZH, "To": OUR_NUMBER} | extra


def test_speech_becomes_a_message_keyed_by_the_call():
    message = inbound.parse_speech(call_params(SpeechResult=" 我的订单到哪了 "), "tp-sms")

    assert message.provider_message_id == f"call:{CALL}:speech"
    assert message.text == "我的订单到哪了"
    assert message.sender == Sender(kind="phone", address=CALLER_ZH)
    assert message.channel == "twilio"


def test_empty_speech_is_no_message():
    assert inbound.parse_speech(call_params(SpeechResult=""), "tp-sms") is None
    assert inbound.parse_speech(call_params(), "tp-sms") is None


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_missed_call_statuses_become_callback_requests(status):
    message = inbound.parse_call_status(call_params(CallStatus=status), "tp-sms")

    assert message.provider_message_id == f"call:{CALL}"
    assert message.subject == f"回电 Call back {CALLER_ZH}"
    assert "please call back" in message.text
    assert message.automatic is None


@pytest.mark.parametrize("status", ["completed", "in-progress", "ringing"])
def test_other_call_statuses_store_nothing(status):
    assert inbound.parse_call_status(call_params(CallStatus=status), "tp-sms") is None


def test_recording_callback_without_from_uses_the_caller_from_its_url():
    params = {"AccountSid": ACCOUNT, "CallSid": CALL, "RecordingSid": "RE" + "2" * 32,
              "RecordingUrl": "https://api.twilio.com/r/RE2", "RecordingStatus": "completed",
              "RecordingDuration": "14"}  # fmt: skip

    message = inbound.parse_recording(params, "tp-sms", CALLER_ZH, OUR_NUMBER, "zh")

    assert message.provider_message_id == "recording:RE" + "2" * 32
    assert message.text == "[语音留言，需要收听] (14 s)"
    assert message.sender.address == CALLER_ZH
    assert message.attachments == (
        Attachment(url="https://api.twilio.com/r/RE2", content_type="audio/wav",
                   filename="RE" + "2" * 32 + ".wav"),
    )  # fmt: skip


def test_recording_that_is_absent_is_no_message_and_one_without_caller_is_bad():
    absent = {"CallSid": CALL, "RecordingStatus": "absent"}
    assert inbound.parse_recording(absent, "tp-sms", CALLER_ZH, None, "zh") is None
    done = {"CallSid": CALL, "RecordingSid": "RE1", "RecordingUrl": "https://x/RE1"}
    with pytest.raises(BadPayload):
        inbound.parse_recording(done, "tp-sms", None, None, "zh")


def test_transcript_becomes_a_message_keyed_by_the_call():
    params = call_params(
        From=CALLER_EN, TranscriptionStatus="completed", TranscriptionText="Where is my parcel?",
        RecordingSid="RE3", RecordingUrl="https://api.twilio.com/r/RE3",
    )  # fmt: skip

    message = inbound.parse_transcription(params, "tp-sms")

    assert message.provider_message_id == f"call:{CALL}:transcript"
    assert message.text == "Where is my parcel?"
    assert message.attachments[0].url == "https://api.twilio.com/r/RE3"


def test_failed_transcription_is_no_message():
    failed = call_params(TranscriptionStatus="failed", TranscriptionText="")
    assert inbound.parse_transcription(failed, "tp-sms") is None


def test_call_webhook_without_call_sid_is_a_bad_payload():
    with pytest.raises(BadPayload):
        inbound.parse_speech({"From": CALLER_ZH, "SpeechResult": "hi"}, "tp-sms")


# -- the fake Twilio's call driver, against scripted TwiML ----------------------------------


class TwimlServer:
    """Serves scripted TwiML per path and records the form posts it gets."""

    def __init__(self, documents: dict[str, str]) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        self.documents, self.posts = documents, []

        async def answer(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            signature = request.headers.get("X-Twilio-Signature", "")
            self.posts.append((request.url.path, str(request.url), form, signature))
            body = self.documents.get(request.url.path, "")
            return Response(body, media_type="text/xml")

        app = Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])
        self.server = LiveServer(app, free_port())
        self.url = self.server.url

    def __enter__(self) -> TwimlServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


@pytest.fixture
def fake_twilio_voice():
    with FakeTwilio({ACCOUNT: "token"}, {ACCOUNT: [OUR_NUMBER]}) as fake:
        yield fake


RECORD = (
    '<Response><Record action="/recorded" transcribe="true" transcribeCallback="/transcribed" '
    'recordingStatusCallback="/recording?from=%2B14155550123"/><Redirect>/silent</Redirect>'
    "</Response>"
)


def test_driver_refuses_twiml_that_is_not_xml_or_declares_entities(fake_twilio_voice):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><Response><Say>&a;</Say></Response>'
    )
    with TwimlServer({"/plain": "Hello there", "/bomb": bomb}) as server:
        plain = fake_twilio_voice.call(f"{server.url}/plain", CALLER_EN, OUR_NUMBER)
        entity = fake_twilio_voice.call(f"{server.url}/bomb", CALLER_EN, OUR_NUMBER)

    assert (plain.errors, entity.errors) == ([12100], [12100])
    assert plain.said == entity.said == []


def test_driver_records_then_posts_recording_callback_without_from_and_signed(fake_twilio_voice):
    with TwimlServer({"/call": RECORD, "/recorded": "<Response><Hangup/></Response>"}) as server:
        call = fake_twilio_voice.call(
            f"{server.url}/call", CALLER_EN, OUR_NUMBER, record_seconds=30, transcription="Hi"
        )
        paths = [post[0] for post in server.posts]
        _path, url, recording, signature = server.posts[paths.index("/recording")]

    assert paths == ["/call", "/recorded", "/recording", "/transcribed"]
    assert "From" not in recording
    assert recording["RecordingSid"] == call.recording_sid
    assert url.endswith("/recording?from=%2B14155550123")
    assert RequestValidator("token").validate(url, recording, signature)


@pytest.mark.parametrize(
    ("seconds", "transcribed"), [(2, False), (3, True), (119, True), (120, False)]
)
def test_driver_transcribes_only_recordings_of_2_to_120_seconds(
    fake_twilio_voice, seconds, transcribed
):
    with TwimlServer({"/call": RECORD}) as server:
        call = fake_twilio_voice.call(
            f"{server.url}/call", CALLER_EN, OUR_NUMBER, record_seconds=seconds, transcription="x"
        )

    assert bool(call.posted("/transcribed")) is transcribed
    assert (13617 in call.errors) is not transcribed


def test_driver_follows_the_redirect_when_nothing_was_recorded(fake_twilio_voice):
    with TwimlServer({"/call": RECORD, "/silent": "<Response><Say>Bye</Say></Response>"}) as server:
        call = fake_twilio_voice.call(f"{server.url}/call", CALLER_EN, OUR_NUMBER)

    assert [r["url"].rsplit("/", 1)[1] for r in call.requests] == ["call", "silent"]
    assert call.texts == ["Bye"]
