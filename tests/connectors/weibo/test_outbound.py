"""Weibo replies over the wire against the fake: error matrix, reply window and length limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from connectors.weibo import outbound
from connectors.weibo.config import WeiboConfig
from connectors.weibo.connector import WeiboConnector
from fakes.weibo import FakeWeibo
from omnidesk.connector import ConnectorEnv
from omnidesk.errors import CannotConnect, InvalidAuth, PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply
from tests.live import free_port

SECRET = "weibo-app-secret"
TOKEN = "2.00weibo-access-token"
UID = 1902538057
CUSTOMER = 2489518277


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeibo]:
    with FakeWeibo(SECRET, {TOKEN: UID}) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(fake: FakeWeibo) -> None:
    """One fake for the module (fast); every test starts with the customer inside the window."""
    fake.sent.clear()
    fake.requests.clear()
    fake.offset = 0.0
    fake.contact(CUSTOMER)


def connector(base_url: str, token: str = TOKEN, timeout: float = 2.0) -> WeiboConnector:
    config = WeiboConfig(
        name="tp-weibo", app_key="1234567890", app_secret=SECRET, access_token=token,
        api_base_url=base_url,
    )  # fmt: skip
    env = ConnectorEnv(
        public_url="http://127.0.0.1:1", data_dir=Path("/nonexistent"), http_timeout=timeout
    )
    return WeiboConnector(config, env)


def reply(text: str = "您好，您的订单已发货。", **overrides) -> OutboundReply:
    values = {
        "message_id": 7,
        "request_id": 3,
        "to": str(CUSTOMER),
        "text": text,
        "last_inbound_at": datetime.now(UTC) - timedelta(minutes=5),
    }
    return OutboundReply(**(values | overrides))


# -- success ---------------------------------------------------------------------------------


def test_reply_reaches_the_reply_api_with_the_documented_form(fake):
    result = connector(fake.base_url).send(reply())

    [sent] = fake.sent
    assert result.provider_message_id == sent["idstr"]
    assert sent["recipient_id"] == CUSTOMER
    assert sent["data"] == {"text": "您好，您的订单已发货。"}
    form = sent["form"]
    assert form["type"] == "text"
    assert form["save_sender_box"] == "1"
    assert form["receiver_id"] == str(CUSTOMER)
    assert form["access_token"] == TOKEN
    # Two URL-encoding levels: after form decoding, `data` is still URL-encoded JSON.
    assert form["data"].startswith("%7B")
    assert json.loads(unquote(form["data"])) == {"text": "您好，您的订单已发货。"}


def test_reply_text_with_percent_and_plus_survives_the_encoding(fake):
    connector(fake.base_url).send(reply("退款100%到账 + 运费"))
    assert fake.sent[0]["data"]["text"] == "退款100%到账 + 运费"


def test_attachment_urls_are_sent_as_text_lines(fake):
    from omnidesk.inbound import Attachment

    connector(fake.base_url).send(
        reply("请看说明", attachments=(Attachment(url="https://tp.example/help.pdf"),))
    )
    assert fake.sent[0]["data"]["text"] == "请看说明\nhttps://tp.example/help.pdf"


# -- refused before any call ----------------------------------------------------------------


def test_reply_outside_the_48_hour_window_fails_at_once_with_a_reason(fake):
    late = reply(last_inbound_at=datetime.now(UTC) - timedelta(hours=49))

    with pytest.raises(PermanentSendError) as caught:
        connector(fake.base_url).send(late)

    assert caught.value.code == "outside_window"
    assert "48 hours" in caught.value.reason
    assert fake.requests == []


def test_naive_last_inbound_time_is_read_as_utc(fake):
    naive = (datetime.now(UTC) - timedelta(hours=47)).replace(tzinfo=None)
    assert connector(fake.base_url).send(reply(last_inbound_at=naive)).provider_message_id


@pytest.mark.parametrize(("length", "sent"), [(299, True), (300, False), (1200, False)])
def test_text_of_300_characters_or_more_is_refused_clearly(fake, length, sent):
    text = "长" * length
    if sent:
        connector(fake.base_url).send(reply(text))
        assert len(fake.sent[0]["data"]["text"]) == length
        return
    with pytest.raises(PermanentSendError) as caught:
        connector(fake.base_url).send(reply(text))
    assert caught.value.code == "text_too_long"
    assert f"has {length}" in caught.value.reason
    assert fake.requests == []


def test_empty_reply_is_refused(fake):
    with pytest.raises(PermanentSendError, match="no text"):
        connector(fake.base_url).send(reply("   "))


# -- the error matrix, over the wire -------------------------------------------------------


def _script(fake: FakeWeibo, case: str) -> None:
    if case.isdigit():
        fake.fail_next(int(case))
    elif case == "html-500":
        fake.answer_next(500, b"<html><body>502 Bad Gateway</body></html>")
    elif case == "cut-json-200":
        fake.answer_next(200, b'{"id": 4')
    elif case == "timeout":
        fake.hang_next(1.5)
    elif case == "no-contact":
        fake.offset = 49 * 3600
    elif case == "unfollowed":
        fake.contact(CUSTOMER, "unfollow")


ERROR_MATRIX = [
    pytest.param("10001", TransientError, "10001", id="system-error"),
    pytest.param("10002", TransientError, "10002", id="service-unavailable"),
    pytest.param("10022", TransientError, "10022", id="ip-rate-limit"),
    pytest.param("10023", TransientError, "10023", id="user-rate-limit"),
    pytest.param("10024", TransientError, "10024", id="api-rate-limit"),
    pytest.param("21327", PermanentSendError, "21327", id="expired-token"),
    pytest.param("21332", PermanentSendError, "21332", id="invalid-token"),
    pytest.param("10017", PermanentSendError, "10017", id="bad-parameter"),
    pytest.param("no-contact", PermanentSendError, "20016", id="window-closed-at-weibo"),
    pytest.param("unfollowed", PermanentSendError, "20603", id="unfollowed-receiver"),
    pytest.param("html-500", TransientError, None, id="html-error-page"),
    pytest.param("cut-json-200", TransientError, None, id="malformed-json"),
    pytest.param("timeout", TransientError, None, id="timeout"),
]


@pytest.mark.parametrize(("case", "kind", "code"), ERROR_MATRIX)
def test_error_matrix(fake, case, kind, code):
    _script(fake, case)

    with pytest.raises(kind) as caught:
        connector(fake.base_url, timeout=0.5).send(reply())

    assert caught.value.code == code
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("code", ["21327", "21332"])
def test_token_errors_tell_the_agent_an_admin_must_set_a_new_token(fake, code):
    fake.fail_next(int(code))
    with pytest.raises(PermanentSendError, match="an admin must set a new one"):
        connector(fake.base_url).send(reply())


def test_unknown_token_is_refused_by_the_fake_as_invalid(fake):
    with pytest.raises(PermanentSendError) as caught:
        connector(fake.base_url, token="2.00not-known").send(reply())
    assert caught.value.code == "21332"


def test_unreachable_weibo_is_transient():
    with pytest.raises(TransientError, match="unreachable"):
        connector(f"http://127.0.0.1:{free_port()}").send(reply())


def test_rate_limited_reply_succeeds_when_retried(fake):
    fake.fail_next(10023)
    with pytest.raises(TransientError):
        connector(fake.base_url).send(reply())
    assert connector(fake.base_url).send(reply()).provider_message_id == fake.sent[-1]["idstr"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"error_code": "10023", "error": "x"}', TransientError),
        ('{"error_code": 10023, "error": "x"}', TransientError),
        ('{"error_code": "21327", "error": "expired_token"}', PermanentSendError),
        ('{"error_code": 20999, "error": "something new"}', PermanentSendError),
    ],
    ids=["string-code", "number-code", "token", "unknown-service-code"],
)
def test_error_code_may_be_a_string_or_a_number(body, expected):
    assert isinstance(outbound.classify_error(400, body.encode()), expected)


def test_unknown_code_keeps_weibo_s_own_words_for_the_agent():
    error = outbound.classify_error(400, b'{"error_code": 20999, "error": "something new"}')
    assert error.reason == "Weibo refused the reply: something new"


# -- check() ---------------------------------------------------------------------------------


def test_check_passes_with_a_valid_token(fake):
    connector(fake.base_url).check()
    assert fake.requests[-1]["path"] == "/2/account/get_uid.json"
    assert "access_token" not in fake.requests[-1]["query"]


@pytest.mark.parametrize("token", ["2.00not-known", "expired"])
def test_check_maps_token_errors_to_invalid_auth(fake, token):
    if token == "expired":
        fake.fail_next(21327)
        token = TOKEN
    with pytest.raises(InvalidAuth) as caught:
        connector(fake.base_url, token=token).check()
    assert caught.value.field == "access_token"


def test_check_maps_system_errors_and_no_answer_to_cannot_connect(fake):
    fake.fail_next(10001)
    with pytest.raises(CannotConnect):
        connector(fake.base_url).check()
    with pytest.raises(CannotConnect):
        connector(f"http://127.0.0.1:{free_port()}").check()


# -- configuration ---------------------------------------------------------------------------

BASE_CONFIG = {"name": "tp-weibo", "channel": "weibo", "app_key": "1234567890",
               "app_secret": SECRET, "access_token": TOKEN}  # fmt: skip
CONFIG_CASES = [
    pytest.param({}, None, id="minimal"),
    pytest.param({"api_base_url": "http://127.0.0.1:9300"}, None, id="fake-host"),
    pytest.param({"app_key": "abc"}, "app_key", id="app-key-not-digits"),
    pytest.param({"access_token": ""}, "access_token", id="empty-token"),
    pytest.param({"api_base_url": "https://m.api.weibo.com/2/"}, "api_base_url", id="path"),
    pytest.param({"max_clock_skew_seconds": 0}, "max_clock_skew_seconds", id="no-skew"),
    pytest.param({"app_secrett": "x"}, "app_secrett", id="typo-is-an-error"),
]


@pytest.mark.parametrize(("overrides", "bad_key"), CONFIG_CASES)
def test_config_cases(overrides, bad_key):
    from pydantic import ValidationError

    if bad_key is None:
        WeiboConfig.model_validate(BASE_CONFIG | overrides)
        return
    with pytest.raises(ValidationError) as caught:
        WeiboConfig.model_validate(BASE_CONFIG | overrides)
    assert bad_key in {str(e["loc"][0]) for e in caught.value.errors()}


def test_config_hides_secrets_and_names_the_account_by_app_key():
    config = WeiboConfig.model_validate(BASE_CONFIG)

    assert SECRET not in repr(config)
    assert TOKEN not in repr(config)
    assert config.redacted()["access_token"] == "**********"
    assert config.account_identity() == ("weibo", "1234567890")
    assert config.api_base_url == "https://m.api.weibo.com"


def test_check_asks_the_account_api_host_unless_a_fake_serves_both():
    default = WeiboConfig.model_validate(BASE_CONFIG)
    fake = WeiboConfig.model_validate(BASE_CONFIG | {"api_base_url": "http://127.0.0.1:9300/"})
    assert default.account_api_url == "https://api.weibo.com"
    assert fake.account_api_url == "http://127.0.0.1:9300"
