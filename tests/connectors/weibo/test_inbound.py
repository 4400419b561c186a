"""Weibo's pushes parsed into InboundMessage values; signature and timestamp checked (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.weibo import inbound
from omnidesk.errors import BadPayload, SignatureError
from omnidesk.inbound import Attachment, Sender

DATA = Path(__file__).parents[2] / "data" / "weibo"
SECRET = "xyz123xyz"
VECTOR = {
    "signature": "90e4c22c90a58f26526c2dd5b6c56c8822edeaa1",
    "timestamp": "1397022061823",
    "nonce": "57155157",
}
VECTOR_TIME = 1397022061.823
BEIJING = timezone(timedelta(hours=8))
SENT_AT = datetime(2012, 7, 16, 18, 9, 20, tzinfo=BEIJING)


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


# -- signature and replay -------------------------------------------------------------------


def test_official_vector_gives_the_documented_signature():
    assert inbound.signature(SECRET, VECTOR["timestamp"], VECTOR["nonce"]) == VECTOR["signature"]


def test_official_vector_verifies_at_its_own_time():
    inbound.verify(SECRET, VECTOR, now=VECTOR_TIME + 2, max_skew_seconds=300)


def test_uppercase_hex_signature_is_accepted():
    query = VECTOR | {"signature": VECTOR["signature"].upper()}
    inbound.verify(SECRET, query, now=VECTOR_TIME, max_skew_seconds=300)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(VECTOR | {"signature": "0" * 40}, "does not match", id="forged"),
        pytest.param(VECTOR | {"signature": "签名"}, "does not match", id="non-ascii"),
        pytest.param({k: v for k, v in VECTOR.items() if k != "nonce"}, "missing", id="no-nonce"),
        pytest.param({}, "missing", id="nothing"),
        pytest.param(VECTOR | {"nonce": "57155158"}, "does not match", id="other-nonce"),
    ],
)
def test_bad_signatures_are_refused(query, message):
    with pytest.raises(SignatureError, match=message):
        inbound.verify(SECRET, query, now=VECTOR_TIME, max_skew_seconds=300)


def test_wrong_secret_is_refused():
    with pytest.raises(SignatureError):
        inbound.verify("another-secret", VECTOR, now=VECTOR_TIME, max_skew_seconds=300)


@pytest.mark.parametrize("drift", [-301, 301, 86_400 * 365 * 10], ids=["past", "future", "years"])
def test_timestamps_outside_the_skew_are_replays(drift):
    with pytest.raises(SignatureError, match="stale"):
        inbound.verify(SECRET, VECTOR, now=VECTOR_TIME + drift, max_skew_seconds=300)


def test_timestamp_is_read_as_milliseconds_not_seconds():
    # 1397022061823 read as seconds would be 44,000 years away and refused at any skew.
    inbound.verify(SECRET, VECTOR, now=VECTOR_TIME - 299, max_skew_seconds=300)


# -- parsing --------------------------------------------------------------------------------

PARSE_CASES = [
    pytest.param("text__plain.json", "你好，我的订单1234567890什么时候发货？", (), None, id="text"),
    pytest.param(
        "position__plain.json",
        "我在这里: http://t.cn/zQgLLYO\n[位置 location: 39.982525, 116.308586]",
        (),
        None,
        id="position",
    ),
    pytest.param(
        "image__plain.json",
        "发了一张图片",
        (
            Attachment(
                filename="weibo-image-821804469",
                content_type="image/jpeg",
                url="https://upload.api.weibo.com/2/mss/msget?fid=821804469",
            ),
        ),
        None,
        id="image-keeps-the-receiver-media-id",
    ),
    pytest.param(
        "voice__plain.json",
        "发了一个语音消息",
        (
            Attachment(
                filename="weibo-voice-821804469",
                content_type="audio/amr",
                url="https://upload.api.weibo.com/2/mss/msget?fid=821804469",
            ),
        ),
        None,
        id="voice",
    ),
    pytest.param("event__follow.json", "关注事件消息", (), "weibo_event:follow", id="follow"),
    pytest.param(
        "event__unfollow.json", "取消关注事件消息", (), "weibo_event:unfollow", id="unfollow"
    ),
    pytest.param("event__subscribe.json", "dy", (), "weibo_event:subscribe", id="subscribe"),
    pytest.param(
        "event__click.json", "事件消息 (ORDER_STATUS)", (), "weibo_event:click", id="click"
    ),
    pytest.param(
        "event__scan_follow.json",
        "扫描二维码 (qrscene_1001)",
        (),
        "weibo_event:scan_follow",
        id="scan",
    ),
    pytest.param(
        "mention__plain.json",
        "@TP官方客服 买的耳机左边没声音，怎么办？",
        (),
        None,
        id="mention",
    ),
    pytest.param(
        "unknown__future_type.json",
        "分享了一张卡片",
        (),
        "weibo_unknown:card",
        id="unknown-type-is-kept-but-never-answered",
    ),
]


@pytest.mark.parametrize(("name", "text", "attachments", "automatic"), PARSE_CASES)
def test_push_is_normalised(name, text, attachments, automatic):
    message = inbound.parse(load(name), "tp-weibo")

    assert message.channel == "weibo"
    assert message.connector == "tp-weibo"
    assert message.sender == Sender(kind="weibo", address="2489518277")
    assert message.recipient == "1902538057"
    assert message.sent_at == SENT_AT
    assert message.text == text
    assert message.attachments == attachments
    assert message.automatic == automatic


def test_mention_sent_as_an_event_subtype_is_still_a_customer_message():
    raw = load("event__follow.json").replace(b'"follow"', b'"mention"')
    message = inbound.parse(raw, "tp-weibo")
    assert message.automatic is None
    assert message.text == "关注事件消息"


def test_ids_sent_as_strings_and_a_string_data_field_are_read():
    message = inbound.parse(load("text__string_ids.json"), "tp-weibo")

    assert message.sender.address == "5987654321012"
    assert message.recipient == "1902538057"
    assert message.sent_at == datetime(2024, 3, 5, 9, 30, 1, tzinfo=BEIJING)


def test_int64_uids_keep_every_digit():
    raw = load("text__plain.json").replace(b"2489518277", b"9223372036854775807")
    assert inbound.parse(raw, "tp-weibo").sender.address == "9223372036854775807"


def test_dedupe_key_names_receiver_sender_second_and_body_hash():
    raw = load("text__plain.json")
    key = inbound.parse(raw, "tp-weibo").provider_message_id

    receiver, sender, second, digest = key.split(":")
    assert (receiver, sender, int(second)) == ("1902538057", "2489518277", 1342433360)
    assert len(digest) == 16


def test_retried_push_has_the_same_key_and_another_message_in_that_second_does_not():
    raw = load("text__plain.json")
    other = raw.replace("发货".encode(), "到货".encode())

    first, retry = inbound.parse(raw, "c"), inbound.parse(raw, "c")
    assert first.provider_message_id == retry.provider_message_id
    assert inbound.parse(other, "c").provider_message_id != first.provider_message_id


@pytest.mark.parametrize(
    "value",
    ["Mon Jul 16 18:09:20 +0800 2012", "Sat Feb 29 23:59:59 -0500 2020"],
)
def test_created_at_is_read_whatever_the_locale(value):
    parsed = inbound.parse_created_at(value)
    assert parsed.tzinfo is not None
    assert parsed.strftime("%H:%M:%S") == value.split()[3]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("garbage__bad_date.json", "date format"),
        ("garbage__negative_uid.json", "sender_id"),
        ("xml__compatible_format.xml", "JSON format"),
    ],
)
def test_unreadable_pushes_are_bad_payloads(name, message):
    with pytest.raises(BadPayload, match=message):
        inbound.parse(load(name), "tp-weibo")


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b'{"type": "text"}'])
def test_malformed_bodies_are_bad_payloads(raw):
    with pytest.raises(BadPayload):
        inbound.parse(raw, "tp-weibo")
