"""The send actor against fake Twilio's failures: transient ones retried, permanent failed."""

from __future__ import annotations

from sqlmodel import Session, select

from omnidesk.db import get_engine
from omnidesk.models import DeliveryStatus, Event, Message
from tests.factories import post_sms, wait_until

SENT_OR_LATER = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


def _outbound(settings) -> Message | None:
    with Session(get_engine(settings)) as session:
        return session.exec(select(Message).where(Message.direction == "outbound")).first()


def _events(settings, kind: str) -> list[Event]:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(Event).where(Event.kind == kind)))


def test_reply_is_retried_after_500_and_sent_once(twilio_desk, client, worker, fake_twilio):
    # Given Twilio answers the first send with a 500
    fake_twilio.fail_next(500, 20500, message="Internal Server Error")

    post_sms(client, "Do you ship to Hangzhou?")

    out = wait_until(lambda: (m := _outbound(twilio_desk)) and m.status in SENT_OR_LATER and m)
    assert out.attempts == 2
    assert len(fake_twilio.messages) == 1
    assert len(_events(twilio_desk, "reply_retry")) == 1
    assert len(_events(twilio_desk, "replied")) == 1


def test_rate_limited_reply_is_retried(twilio_desk, client, worker, fake_twilio):
    fake_twilio.fail_next(429, 20429, count=2, message="Too Many Requests")

    post_sms(client, "退货怎么办理？")

    out = wait_until(lambda: (m := _outbound(twilio_desk)) and m.status in SENT_OR_LATER and m)
    assert out.attempts == 3
    assert len(fake_twilio.messages) == 1


def test_invalid_number_fails_the_reply_with_twilio_reason_and_no_retry(
    twilio_desk, client, worker, fake_twilio
):
    # A sender Twilio refuses as a recipient (a short code, not E.164: 21211)
    post_sms(client, "hello", sender="10086")

    out = wait_until(
        lambda: (m := _outbound(twilio_desk)) and m.status == DeliveryStatus.FAILED and m
    )
    assert out.error_code == "21211"
    assert "not a valid phone number" in (out.error_reason or "")
    assert out.attempts == 1
    failed = _events(twilio_desk, "reply_failed")
    assert len(failed) == 1
    assert failed[0].data["error_code"] == "21211"
    assert _events(twilio_desk, "reply_retry") == []


def test_transient_failures_give_up_after_the_attempt_limit(
    twilio_desk, client, worker, fake_twilio
):
    fake_twilio.fail_next(503, 20503, count=50, message="Service Unavailable")

    post_sms(client, "anyone there?")

    out = wait_until(
        lambda: (m := _outbound(twilio_desk)) and m.status == DeliveryStatus.FAILED and m,
        timeout=30,
    )
    assert out.attempts == twilio_desk.send_max_attempts
    assert "gave up" in (out.error_reason or "")
    assert fake_twilio.messages == []


def test_undelivered_status_callback_marks_the_reply_failed(
    twilio_desk, client, worker, fake_twilio
):
    from tests.factories import CUSTOMER

    fake_twilio.script_outcome(CUSTOMER, ["sent", "undelivered"], error_code=30003)

    post_sms(client, "where is my parcel")

    out = wait_until(
        lambda: (m := _outbound(twilio_desk)) and m.status == DeliveryStatus.UNDELIVERED and m
    )
    assert out.error_code == "30003"
    assert _events(twilio_desk, "reply_failed")
