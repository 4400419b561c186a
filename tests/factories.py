"""Test data: the Twilio account of the tests, connector tables, signed webhooks, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from fakes.twilio import FakeTwilio, sign, sms_params

TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "test-auth-token-0123456789"
TWILIO_NUMBER = "+15005550006"
CUSTOMER = "+8613800138000"

T = TypeVar("T")

__all__ = ["FakeTwilio", "fake_twilio", "post_sms", "twilio_toml", "wait_until"]


@contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(accounts={TWILIO_SID: TWILIO_TOKEN}, numbers={TWILIO_SID: [TWILIO_NUMBER]})
    with fake:
        yield fake


def twilio_toml(api_base_url: str, name: str = "tp-sms") -> str:
    return f"""
[[connectors]]
name = "{name}"
channel = "twilio"
account_sid = "{TWILIO_SID}"
auth_token = "${{TWILIO_AUTH_TOKEN}}"
from_number = "{TWILIO_NUMBER}"
api_base_url = "{api_base_url}"
"""


def post_sms(
    client: httpx.Client,
    body: str,
    *,
    sender: str = CUSTOMER,
    sid: str | None = None,
    connector: str = "tp-sms",
    token: str = TWILIO_TOKEN,
    signature: str | None = None,
) -> Any:
    """Post an inbound SMS webhook to the app, signed as Twilio signs it."""
    params = sms_params(TWILIO_SID, sender, TWILIO_NUMBER, body, message_sid=sid)
    url = f"{client.base_url}/webhooks/{connector}/sms"
    headers = {
        "X-Twilio-Signature": signature if signature is not None else sign(token, url, params)
    }
    response = client.post(url, data=params, headers=headers)
    response.params = params  # type: ignore[attr-defined]
    return response


def wait_until(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; fail with its last value on timeout."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        time.sleep(interval)
        value = check()
    return value
