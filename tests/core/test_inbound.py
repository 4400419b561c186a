"""InboundMessage: frozen, tz-aware, strict."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from omnidesk.inbound import InboundMessage, Sender


def make(**overrides):
    values = {
        "channel": "twilio",
        "connector": "tp-sms",
        "provider_message_id": "SM1",
        "sender": Sender(kind="phone", address="+8613800138000"),
        "text": "你好",
    }
    return InboundMessage(**(values | overrides))


def test_received_at_defaults_to_an_aware_utc_time():
    assert make().received_at.tzinfo is not None


def test_naive_timestamps_are_refused():
    with pytest.raises(ValidationError):
        make(sent_at=datetime(2026, 11, 25, 9, 0))  # noqa: DTZ001


def test_the_record_is_frozen_and_refuses_unknown_fields():
    message = make()
    with pytest.raises(ValidationError):
        message.text = "changed"
    with pytest.raises(ValidationError):
        make(payload={"raw": 1})


def test_an_empty_provider_id_is_refused():
    with pytest.raises(ValidationError):
        make(provider_message_id="")
