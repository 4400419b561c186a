"""An SMS from a customer through the whole pipeline to the acknowledgement at fake Twilio."""

from __future__ import annotations

from sqlmodel import Session, select

from omnidesk.db import get_engine
from omnidesk.models import DeliveryStatus, Event, Message, Request, Stage
from tests.factories import CUSTOMER, TWILIO_NUMBER, post_sms, wait_until


def _requests(settings) -> list[Request]:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(Request)))


def _done(settings) -> bool:
    with Session(get_engine(settings)) as session:
        inbound = list(session.exec(select(Message).where(Message.direction == "inbound")))
        return bool(inbound) and all(m.stage == Stage.DONE for m in inbound)


def test_signed_sms_becomes_one_request_and_one_acknowledgement(
    twilio_desk, client, worker, fake_twilio
):
    # When a customer texts the desk
    response = post_sms(client, "我的订单1234567890什么时候发货？")

    # Then Twilio gets an empty TwiML answer, and one acknowledgement reaches Twilio
    assert response.status_code == 200
    assert "<Response/>" in response.text
    sent = wait_until(lambda: fake_twilio.messages)
    assert len(sent) == 1
    assert sent[0]["to"] == CUSTOMER
    assert sent[0]["from"] == TWILIO_NUMBER
    requests = _requests(twilio_desk)
    assert len(requests) == 1
    assert f"#{requests[0].id}" in sent[0]["body"]
    assert requests[0].category == "order"
    assert requests[0].language == "zh"
    wait_until(lambda: _done(twilio_desk))


def test_second_sms_of_a_customer_joins_the_open_request(twilio_desk, client, worker, fake_twilio):
    post_sms(client, "Where is my order 1234567890?")
    wait_until(lambda: _done(twilio_desk))
    post_sms(client, "It was supposed to arrive on Monday.")
    wait_until(lambda: _done(twilio_desk) and len(fake_twilio.messages) >= 1)

    requests = _requests(twilio_desk)
    assert len(requests) == 1
    with Session(get_engine(twilio_desk)) as session:
        inbound = session.exec(select(Message).where(Message.direction == "inbound")).all()
        assert {m.request_id for m in inbound} == {requests[0].id}
        kinds = [
            e.kind for e in session.exec(select(Event).where(Event.request_id == requests[0].id))
        ]
    assert "message_attached" in kinds
    # Only the opening message is acknowledged.
    assert len(fake_twilio.messages) == 1


def test_webhook_delivered_three_times_is_one_message_and_one_reply(
    twilio_desk, client, worker, fake_twilio
):
    first = post_sms(client, "Hello, I need help with a refund")
    sid = first.params["MessageSid"]
    for _ in range(2):
        assert post_sms(client, "Hello, I need help with a refund", sid=sid).status_code == 200

    wait_until(lambda: _done(twilio_desk) and fake_twilio.messages)
    with Session(get_engine(twilio_desk)) as session:
        inbound = session.exec(select(Message).where(Message.direction == "inbound")).all()
    assert len(inbound) == 1
    assert len(_requests(twilio_desk)) == 1
    assert len(fake_twilio.messages) == 1


def test_bad_signature_is_rejected_and_nothing_stored(twilio_desk, client, worker, fake_twilio):
    response = post_sms(client, "forged", signature="bm90IGEgc2lnbmF0dXJl")
    missing = post_sms(client, "unsigned", signature="")
    wrong_token = post_sms(client, "wrong token", token="not-the-token")

    assert [r.status_code for r in (response, missing, wrong_token)] == [403, 403, 403]
    with Session(get_engine(twilio_desk)) as session:
        assert session.exec(select(Message)).all() == []


def test_acknowledgement_row_is_sent_and_then_delivered(twilio_desk, client, worker, fake_twilio):
    post_sms(client, "Can I return these shoes?")
    wait_until(lambda: fake_twilio.callbacks)

    def delivered() -> bool:
        with Session(get_engine(twilio_desk)) as session:
            out = session.exec(select(Message).where(Message.direction == "outbound")).one()
            return out.status == DeliveryStatus.DELIVERED

    wait_until(delivered)
