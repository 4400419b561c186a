"""Replies through the customer-service API: the body on the wire and the error matrix."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from connectors.wechat import outbound
from fakes.wechat import FakeWeChat
from omnidesk.errors import PermanentSendError, TransientError
from omnidesk.inbound import Attachment
from tests.connectors.wechat.conftest import APP_ID, OPENID, SECRET, MakeConnector, make_reply

Setup = Callable[[FakeWeChat], dict[str, object]]


def _nothing(fake: FakeWeChat) -> dict[str, object]:
    return {}


def _quota_used(fake: FakeWeChat) -> dict[str, object]:
    fake.customer_writes(OPENID)
    fake.followers[OPENID].quota = 0
    return {}


def _script(action: Callable[[FakeWeChat], None]) -> Setup:
    def setup(fake: FakeWeChat) -> dict[str, object]:
        action(fake)
        return {}

    return setup


# (case, setup of the fake → connector overrides, expected: "sent" | transient/permanent + code)
ERROR_MATRIX: list[tuple[str, Setup, str, str | None]] = [
    ("ok", _nothing, "sent", None),
    ("system_busy", _script(lambda f: f.fail_next(-1)), "transient", "-1"),
    ("called_too_often", _script(lambda f: f.fail_next(45011)), "transient", "45011"),
    ("daily_quota", _script(lambda f: f.fail_next(45009)), "transient", "45009"),
    ("window_closed_at_wechat", _script(lambda f: f.advance(48 * 3600 + 60)), "permanent", "45015"),
    ("unfollowed", _script(lambda f: f.customer_unfollows(OPENID)), "permanent", "45015"),
    ("reply_quota_used_up", _quota_used, "permanent", "45047"),
    ("unknown_openid", _script(lambda f: f.followers.pop(OPENID)), "permanent", "40003"),
    ("must_follow", _script(lambda f: f.fail_next(43004)), "permanent", "43004"),
    ("api_unauthorised", _script(lambda f: f.fail_next(48001)), "permanent", "48001"),
    ("token_rejected_twice", _script(lambda f: f.fail_next(40001, 2)), "transient", "40001"),
    ("token_expired_twice", _script(lambda f: f.fail_next(42001, 2)), "transient", "42001"),
    ("http_502", _script(lambda f: f.http_error_next(502)), "transient", "502"),
    ("not_json", _script(lambda f: f.garble_next()), "transient", None),
    ("timeout", _script(lambda f: f.hang_next(1.0)), "transient", None),
    ("wrong_secret", lambda f: {"app_secret": "f" * 32}, "permanent", "40001"),
    ("unknown_appid", lambda f: {"app_id": "wxffffffffffffffff"}, "permanent", "40013"),
    ("token_endpoint_busy", _script(lambda f: f.fail_next(-1, path="/cgi-bin/stable_token")),
     "transient", "-1"),
    ("unreachable", lambda f: {"api_base_url": "http://127.0.0.1:1"}, "transient", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "outcome", "code"), [c[1:] for c in ERROR_MATRIX], ids=[c[0] for c in ERROR_MATRIX]
)
def test_error_matrix_over_the_wire(
    fake: FakeWeChat, make_connector: MakeConnector, setup: Setup, outcome: str, code: str | None
) -> None:
    overrides = setup(fake)
    connector = make_connector(http_timeout=0.5, **overrides)

    if outcome == "sent":
        assert connector.send(make_reply()).provider_message_id == "custom:7"
        return
    expected = TransientError if outcome == "transient" else PermanentSendError
    with pytest.raises(expected) as caught:
        connector.send(make_reply())
    assert caught.value.code == code
    assert caught.value.reason
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (45015, "48 hours"),
        (45047, "quota"),
        (40003, "openid"),
        (43004, "follow"),
    ],
)
def test_permanent_errors_carry_a_reason_an_agent_understands(code: int, words: str) -> None:
    error = outbound.classify_error(code, "raw errmsg rid: 1")

    assert isinstance(error, PermanentSendError)
    assert words in error.reason
    assert error.code == str(code)


def test_unknown_errcode_is_permanent_with_wechats_message() -> None:
    error = outbound.classify_error(99999, "something new rid: 1")

    assert isinstance(error, PermanentSendError)
    assert "something new" in error.reason


def test_reply_outside_48_hours_is_refused_without_calling_wechat(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    last = datetime.now(UTC) - timedelta(hours=48, minutes=1)

    with pytest.raises(PermanentSendError) as caught:
        make_connector().send(make_reply(last_inbound_at=last))

    assert caught.value.code == "45015"
    assert "48 hours" in caught.value.reason
    assert fake.requests == []


def test_reply_just_inside_48_hours_goes_out(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    last = datetime.now(UTC) - timedelta(hours=47, minutes=59)

    make_connector().send(make_reply(last_inbound_at=last))

    assert len(fake.sent) == 1


def test_reply_body_is_utf8_json_without_ascii_escapes(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    make_connector().send(make_reply("您好，订单已发货 🚚"))

    raw = fake.sent[0]["raw"]
    assert "您好，订单已发货 🚚".encode() in raw
    assert b"\\u" not in raw
    assert json.loads(raw) == {
        "touser": OPENID, "msgtype": "text", "text": {"content": "您好，订单已发货 🚚"}
    }  # fmt: skip
    assert fake.sent[0]["content_type"] == "application/json; charset=utf-8"


def test_attachment_links_are_added_to_the_text() -> None:
    reply = make_reply(
        "请看退货说明", attachments=(Attachment(url="https://tp.example/returns.pdf"),)
    )

    body = json.loads(outbound.text_body(reply))

    assert body["text"]["content"] == "请看退货说明\nhttps://tp.example/returns.pdf"


def test_unknown_last_inbound_time_is_left_to_wechat(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    make_connector().send(make_reply(last_inbound_at=None))

    assert len(fake.sent) == 1
    assert fake.app_id == APP_ID
