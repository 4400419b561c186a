"""Twilio's webhook payloads parsed into InboundMessage values, and its signature checked (pure)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from connectors.twilio import inbound
from omnidesk.errors import BadPayload, SignatureError
from omnidesk.inbound import Attachment, InboundMessage, Sender

DATA = Path(__file__).parents[2] / "data" / "twilio"
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/"


def load(name: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / name).read_text().strip(), keep_blank_values=True))


def expected(**values) -> InboundMessage:
    return InboundMessage(channel="twilio", connector="tp-sms", **values)


PARSE_CASES = [
    pytest.param(
        "sms__plain.form",
        dict(  # noqa: C408 - keyword form reads like the record
            provider_message_id="SM1f0e8ae6ade43cb3c0ce4525424e404f",
            sender=Sender(kind="phone", address="+8613800138000"),
            recipient="+15005550006",
            text="我的订单1234567890到哪了？",
        ),
        id="chinese-sms",
    ),
    pytest.param(
        "sms__mms_two_media.form",
        dict(  # noqa: C408 - keyword form reads like the record
            provider_message_id="MM5e4e7a2d9b7f4ad58e1fdb8de94f1b11",
            sender=Sender(kind="phone", address="+14155550123"),
            recipient="+15005550006",
            text="The box arrived crushed, see photos",
            attachments=(
                Attachment(
                    url=MEDIA + "MM5e4e7a2d9b7f4ad58e1fdb8de94f1b11/Media/ME1",
                    content_type="image/jpeg",
                ),
                Attachment(
                    url=MEDIA + "MM5e4e7a2d9b7f4ad58e1fdb8de94f1b11/Media/ME2",
                    content_type="image/png",
                ),
            ),
        ),
        id="mms-keeps-media-urls",
    ),
    pytest.param(
        "sms__stop_keyword.form",
        dict(  # noqa: C408 - keyword form reads like the record
            provider_message_id="SM9a8b7c6d5e4f30211a2b3c4d5e6f7081",
            sender=Sender(kind="phone", address="+12125550199"),
            recipient="+15005550006",
            text="STOP",
            automatic="opt_out",
        ),
        id="stop-is-an-opt-out",
    ),
]


@pytest.mark.parametrize(("fixture", "values"), PARSE_CASES)
def test_sms_webhooks_become_whole_inbound_messages(fixture, values):
    parsed = inbound.parse_sms(load(fixture), "tp-sms")
    assert parsed.model_dump(exclude={"received_at"}) == expected(**values).model_dump(
        exclude={"received_at"}
    )


def test_a_webhook_without_message_sid_is_bad_payload():
    params = load("sms__plain.form")
    for key in ("MessageSid", "SmsSid", "SmsMessageSid"):
        params.pop(key)
    with pytest.raises(BadPayload):
        inbound.parse_sms(params, "tp-sms")


@pytest.mark.parametrize(
    ("fixture", "report"),
    [
        (
            "status__undelivered_30003.form",
            ("SM4c1c2b3a4d5e6f708192a3b4c5d6e7f8", "undelivered", "30003"),
        ),
        ("status__delivered.form", ("SM4c1c2b3a4d5e6f708192a3b4c5d6e7f8", "delivered", None)),
    ],
)
def test_status_callbacks_give_sid_status_and_error_code(fixture, report):
    assert inbound.parse_status(load(fixture)) == report


def test_twilio_official_signature_vector_verifies():
    # protocols.md 1.2: Twilio's documented example.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    inbound.verify("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    with pytest.raises(SignatureError):
        inbound.verify(
            "12345", url.replace("foo=1", "foo=2"), params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        )
    with pytest.raises(SignatureError):
        inbound.verify("12345", url, params, None)


def test_a_webhook_from_another_account_is_refused():
    with pytest.raises(SignatureError):
        inbound.check_account(load("sms__plain.form"), "AC" + "f" * 32)
