"""Test data: the Twilio and WeChat accounts of the tests, connector tables, signed webhooks,
waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from fakes.twilio import FakeTwilio, sign, sms_params
from fakes.wechat import FakeWeChat

TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "test-auth-token-0123456789"
TWILIO_NUMBER = "+15005550006"
CUSTOMER = "+8613800138000"

# The WeChat Official Account of the tests (safe mode) and one follower.
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_SECRET = "0123456789abcdef0123456789abcdef"
WECHAT_TOKEN = "omnideskToken2024"
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECHAT_OPENID = "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"
# What `wechat_toml` refers to by ${NAME}.
WECHAT_ENV = {
    "WECHAT_APP_SECRET": WECHAT_SECRET,
    "WECHAT_TOKEN": WECHAT_TOKEN,
    "WECHAT_AES_KEY": WECHAT_AES_KEY,
}

T = TypeVar("T")

__all__ = [
    "FakeTwilio",
    "FakeWeChat",
    "fake_twilio",
    "fake_wechat",
    "post_sms",
    "twilio_toml",
    "wait_until",
    "wechat_toml",
]


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


@contextmanager
def fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat(
        WECHAT_APP_ID, WECHAT_SECRET, token=WECHAT_TOKEN, encoding_aes_key=WECHAT_AES_KEY
    )
    with fake:
        yield fake


def wechat_toml(api_base_url: str, name: str = "tp-wechat") -> str:
    """A safe-mode WeChat connector table; its secrets come from `WECHAT_ENV`."""
    return f"""
[[connectors]]
name = "{name}"
channel = "wechat"
app_id = "{WECHAT_APP_ID}"
app_secret = "${{WECHAT_APP_SECRET}}"
token = "${{WECHAT_TOKEN}}"
encoding_aes_key = "${{WECHAT_AES_KEY}}"
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
