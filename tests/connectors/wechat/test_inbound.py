"""WeChat pushes: official signature vectors, safe mode, replay, hostile XML, normalisation."""

from __future__ import annotations

import sys
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.wechat.inbound import (
    PushKeys,
    decrypt,
    dedupe_key,
    open_push,
    parse,
    read_xml,
    signature,
    verify_url,
)
from fakes.wechat import encrypt, xml_of
from omnidesk.errors import BadPayload, SignatureError
from omnidesk.inbound import Attachment, InboundMessage, Sender

DATA = Path(__file__).parents[2] / "data" / "wechat"
# The official vectors of protocols 2.2 (token, EncodingAESKey, AppID).
TOKEN, AES_KEY, APP_ID = "AAAAA", "A" * 43, "wxba5fad812f8e6fb9"
OFFICIAL_ENCRYPT = (
    "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZq"
    "zDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2"
    "Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOB"
    "rebufAlr7F9mFUPAJGj04="
)
SAFE_TS, SAFE_NONCE = "1714112445", "415670741"
# text__safe_mode.xml / text__compatible_mode.xml were sealed with these (fixed random bytes).
FIXTURE_MSG_SIGNATURE = "e54cb9d451f54033a047a4a27b480ba65a5f4613"
GET_SIGNATURE = "f464b24fc39322e44b38aa78f5edd27bd1441696"
GET_QUERY = {
    "signature": GET_SIGNATURE,
    "echostr": "4375120948345356249",
    "timestamp": "1714036504",
    "nonce": "1514711492",
}
PLAIN = PushKeys(token=TOKEN, app_id=APP_ID)
SAFE = PushKeys(token=TOKEN, app_id=APP_ID, aes_keys=(AES_KEY,))
OTHER_KEY = "B" * 42 + "0"
OPENID, GH = "o9AgO5Kd5ggOC-bXrbNODIiE3bGY", "gh_97417a04a28d"
RECEIVED = datetime(2024, 4, 25, 9, 30, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def signed_query(timestamp: str = SAFE_TS, nonce: str = SAFE_NONCE, **extra: str) -> dict[str, str]:
    return {"signature": signature(TOKEN, timestamp, nonce), "timestamp": timestamp,
            "nonce": nonce, **extra}  # fmt: skip


def safe_query(msg_signature: str = FIXTURE_MSG_SIGNATURE, **extra: str) -> dict[str, str]:
    return signed_query(encrypt_type="aes", msg_signature=msg_signature, openid=OPENID, **extra)


# -- official vectors (protocols 2.1, 2.2) ------------------------------------------------------


def test_url_verification_signature_matches_the_official_vector() -> None:
    assert signature(TOKEN, "1714036504", "1514711492") == GET_SIGNATURE


def test_plaintext_push_signature_matches_the_official_vector() -> None:
    assert signature(TOKEN, "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"


def test_safe_push_signatures_match_the_official_vector() -> None:
    assert signature(TOKEN, SAFE_TS, SAFE_NONCE) == "6c5c811b55cc85e0e1b54100749188c20beb3f5d"
    msg_signature = signature(TOKEN, SAFE_TS, SAFE_NONCE, OFFICIAL_ENCRYPT)
    assert msg_signature == "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"


def test_official_safe_push_decrypts_to_the_documented_message() -> None:
    plain = decrypt(SAFE, OFFICIAL_ENCRYPT, "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
                    SAFE_TS, SAFE_NONCE)  # fmt: skip

    assert plain == (
        '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",'
        '"CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}'
    )


def test_official_url_verification_echoes_echostr() -> None:
    assert verify_url(PLAIN, GET_QUERY, now=1714036504) == "4375120948345356249"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"signature": GET_SIGNATURE[:-1] + "7"}, id="wrong_signature"),
        pytest.param({"signature": ""}, id="no_signature"),
        pytest.param({"nonce": "1514711493"}, id="nonce_changed"),
        pytest.param({"echostr": ""}, id="no_echostr"),
    ],
)
def test_url_verification_with_a_bad_query_is_refused(change: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify_url(PLAIN, GET_QUERY | change, now=1714036504)


# -- replay --------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-301, 301, 86_400])
def test_push_with_a_stale_timestamp_is_refused_as_a_replay(offset: int) -> None:
    with pytest.raises(SignatureError, match="stale"):
        open_push(PLAIN, signed_query(), fixture("text__plain.xml"), now=int(SAFE_TS) + offset)


@pytest.mark.parametrize("offset", [-300, 0, 299])
def test_push_inside_the_allowed_clock_skew_is_accepted(offset: int) -> None:
    fields = open_push(PLAIN, signed_query(), fixture("text__plain.xml"), now=int(SAFE_TS) + offset)

    assert fields["MsgId"] == "24527183720716364"


def test_url_verification_with_a_stale_timestamp_is_refused() -> None:
    query = signed_query(echostr="123")

    with pytest.raises(SignatureError, match="stale"):
        verify_url(PLAIN, query, now=int(SAFE_TS) + 3600)


# -- plaintext, compatible and safe modes ------------------------------------------------------


def test_plaintext_push_with_a_valid_signature_gives_its_fields() -> None:
    fields = open_push(PLAIN, signed_query(), fixture("text__plain.xml"), now=int(SAFE_TS))

    assert fields == {"ToUserName": GH, "FromUserName": OPENID, "CreateTime": "1714037059",
                      "MsgType": "text", "Content": "你好，我的订单1234567890什么时候发货？",
                      "MsgId": "24527183720716364"}  # fmt: skip


@pytest.mark.parametrize("query", [
    pytest.param({"signature": "0" * 40}, id="forged"),
    pytest.param({"signature": ""}, id="missing"),
    pytest.param({"nonce": ""}, id="no_nonce"),
    pytest.param({"timestamp": "soon"}, id="timestamp_not_a_number"),
])  # fmt: skip
def test_plaintext_push_with_a_bad_signature_is_refused(query: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        open_push(PLAIN, signed_query() | query, fixture("text__plain.xml"), now=int(SAFE_TS))


@pytest.mark.parametrize("name", ["text__safe_mode.xml", "text__compatible_mode.xml"])
def test_encrypted_push_decrypts_to_the_plain_message(name: str) -> None:
    fields = open_push(SAFE, safe_query(), fixture(name), now=int(SAFE_TS))

    assert fields == read_xml(fixture("text__plain.xml"))


def test_compatible_mode_trusts_only_the_encrypted_fields() -> None:
    # Given a compatible push whose plain (unsigned) Content was altered on the way
    body = fixture("text__compatible_mode.xml").replace(
        "什么时候发货".encode(), "退款给别人".encode()
    )

    fields = open_push(SAFE, safe_query(), body, now=int(SAFE_TS))

    assert fields["Content"] == "你好，我的订单1234567890什么时候发货？"


def test_safe_mode_refuses_a_plaintext_push_signed_only_with_signature() -> None:
    with pytest.raises(SignatureError, match="encrypted"):
        open_push(SAFE, signed_query(), fixture("text__plain.xml"), now=int(SAFE_TS))


def test_safe_mode_refuses_a_push_without_msg_signature() -> None:
    query = signed_query(encrypt_type="aes")

    with pytest.raises(SignatureError, match="msg_signature"):
        open_push(SAFE, query, fixture("text__safe_mode.xml"), now=int(SAFE_TS))


def test_safe_mode_refuses_a_tampered_encrypt() -> None:
    body = fixture("text__safe_mode.xml").replace(b"ormzNN", b"ormzNM")

    with pytest.raises(SignatureError, match="msg_signature"):
        open_push(SAFE, safe_query(), body, now=int(SAFE_TS))


def test_safe_mode_refuses_a_valid_signature_over_another_body() -> None:
    # msg_signature is valid for the official vector's Encrypt, not for this body
    query = safe_query(msg_signature="046e02f8204d34f8ba5fa3b1db94908f3df2e9b3")

    with pytest.raises(SignatureError):
        open_push(SAFE, query, fixture("text__safe_mode.xml"), now=int(SAFE_TS))


def test_push_encrypted_with_another_key_is_refused() -> None:
    keys = PushKeys(token=TOKEN, app_id=APP_ID, aes_keys=(OTHER_KEY,))

    with pytest.raises(SignatureError, match="decrypt"):
        open_push(keys, safe_query(), fixture("text__safe_mode.xml"), now=int(SAFE_TS))


def test_push_for_another_app_id_is_refused() -> None:
    keys = PushKeys(token=TOKEN, app_id="wx0123456789abcdef", aes_keys=(AES_KEY,))

    with pytest.raises(SignatureError, match="AppID"):
        open_push(keys, safe_query(), fixture("text__safe_mode.xml"), now=int(SAFE_TS))


def test_previous_key_still_decrypts_during_a_key_rotation() -> None:
    keys = PushKeys(token=TOKEN, app_id=APP_ID, aes_keys=(OTHER_KEY, AES_KEY))

    fields = open_push(keys, safe_query(), fixture("text__safe_mode.xml"), now=int(SAFE_TS))

    assert fields["MsgId"] == "24527183720716364"


def test_plaintext_mode_refuses_an_encrypted_push_it_cannot_read() -> None:
    with pytest.raises(BadPayload, match="encoding_aes_key"):
        open_push(PLAIN, safe_query(), fixture("text__safe_mode.xml"), now=int(SAFE_TS))


# -- hostile XML ---------------------------------------------------------------------------------

HOSTILE = ["xxe__external_entity.xml", "xxe__entity_bomb.xml", "xxe__external_dtd.xml",
           "xxe__parameter_entity.xml"]  # fmt: skip


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """Record every file this thread opens (an audit hook; hooks cannot be removed, so it idles)."""
    opened: list[str] = []
    _watch.active, _watch.opened = True, opened
    try:
        yield opened
    finally:
        _watch.active = False


_watch = threading.local()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and getattr(_watch, "active", False):
        _watch.opened.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_plaintext_push_is_refused_without_reading_files(name: str) -> None:
    body = fixture(name)

    with files_opened() as opened, pytest.raises(BadPayload, match="DTD or entities"):
        open_push(PLAIN, signed_query(), body, now=int(SAFE_TS))

    assert opened == []


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_xml_inside_a_valid_encryption_is_refused_without_reading_files(name: str) -> None:
    sealed, msg_signature = encrypt(
        TOKEN, AES_KEY, APP_ID, fixture(name).decode(), SAFE_NONCE, SAFE_TS
    )
    body = f"<xml><ToUserName>{GH}</ToUserName><Encrypt>{sealed}</Encrypt></xml>".encode()

    with files_opened() as opened, pytest.raises(BadPayload, match="DTD or entities"):
        open_push(SAFE, safe_query(msg_signature=msg_signature), body, now=int(SAFE_TS))

    assert opened == []


def test_hostile_safe_mode_envelope_is_refused_before_decryption() -> None:
    with pytest.raises(BadPayload, match="DTD or entities"):
        open_push(SAFE, safe_query(), fixture("xxe__external_entity.xml"), now=int(SAFE_TS))


def test_entity_bomb_is_refused_without_expanding_it() -> None:
    body = fixture("xxe__entity_bomb.xml")  # 10**8 characters once expanded

    tracemalloc.start()
    try:
        with pytest.raises(BadPayload):
            read_xml(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 1_000_000


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("garbage__json_body.xml", "not well-formed"),
        ("garbage__wrong_root.xml", "root element"),
    ],
)
def test_body_that_is_not_a_wechat_xml_document_is_refused(name: str, reason: str) -> None:
    with pytest.raises(BadPayload, match=reason):
        read_xml(fixture(name))


# -- normalisation (protocols 2.3) ---------------------------------------------------------------


def message(
    provider_message_id: str, created: int, text: str,
    attachments: tuple[Attachment, ...] = (), automatic: str | None = None,
) -> InboundMessage:  # fmt: skip
    return InboundMessage(
        channel="wechat", connector="tp-wechat", provider_message_id=provider_message_id,
        sender=Sender(kind="wechat", address=OPENID), recipient=GH,
        sent_at=datetime.fromtimestamp(created, UTC), received_at=RECEIVED, text=text,
        attachments=attachments, automatic=automatic,
    )  # fmt: skip


def event_key(created: int, event: str, key: str = "") -> str:
    return f"event:{OPENID}:{created}:{event}:{key}"


PIC = "http://mmbiz.qpic.cn/mmbiz_jpg/Xk3Hb0ZicdvHQ6MBfbX8QGiarUibGq7xGfO8U5Gb7Jo/0"
PARSE_CASES = [
    ("text__plain.xml", message(
        "24527183720716364", 1714037059, "你好，我的订单1234567890什么时候发货？")),
    ("text__multiline_markup.xml", message(
        "24527184125317790", 1714037122, "耳机<100元 & 包邮吗？😀\n第二行：<b>不是标签</b>")),
    ("image__plain.xml", message("24527185346821231", 1714037200, "[图片]", (Attachment(
        content_type="image/jpeg", url=PIC,
        content_id="KpZ2vC3lCDnMyF1xDmmjPYf_Z3rJDHHoHmN1xqKz0Xy6H2nCZ8n3p9Y9o6xjB3Oa"),))),
    ("voice__recognition.xml", message(
        "24527186557001445", 1714037300, "我买的鞋子尺码不对，可以换货吗？", (Attachment(
            content_type="audio/amr",
            content_id="Xq8Kd1Yb3fQp7W2mN5cR9tL0vH4sJ6gA2zE8uI1oP3kD7nB5yF9xC0wM4rT6eV8h"),))),
    ("voice__no_recognition.xml", message("24527186691203398", 1714037310, "[语音]", (Attachment(
        content_type="audio/speex",
        content_id="Zs0Mf3Ad5hSr9Y4oP7eT1vN2xJ6uL8iC4bG0wK3qR5mF9pD7aH1zE2yO6tV8gX0j"),))),
    ("video__plain.xml", message("24527187812240001", 1714037400, "[视频]", (Attachment(
        content_type="video/mp4",
        content_id="At1Ng4Be6iTs0Z5pQ8fU2wO3yK7vM9jD5cH1xL4rS6nG0qE8bI2aF3zP7uW9hY1k"),))),
    ("shortvideo__plain.xml", message("24527187933350072", 1714037410, "[小视频]", (Attachment(
        content_type="video/mp4",
        content_id="Cv3Pi6Dg8kVu2B7rS0hW4yQ5aM9xO1lF7eJ3zN6tU8pI2sG0dK4cH5bR9wY1jA3m"),))),
    ("location__plain.xml", message(
        "24527189014489123", 1714037500,
        "[位置] 广东省广州市海珠区新港中路397号 (23.134521, 113.358803)")),
    ("link__plain.xml", message("24527190235567104", 1714037600,
        "[链接]\nTP官方旗舰店 蓝牙耳机\n这款耳机还有黑色的吗？\nhttps://shop.example.com/item/889900")),
    ("event__subscribe.xml", message(event_key(1714036000, "subscribe"), 1714036000, "[关注公众号]",
                                     automatic="wechat_event:subscribe")),
    ("event__subscribe_qrscene.xml", message(
        event_key(1714036010, "subscribe", "qrscene_store_guangzhou_01"), 1714036010,
        "[扫码关注] 场景 store_guangzhou_01", automatic="wechat_event:subscribe")),
    ("event__unsubscribe.xml", message(event_key(1714039000, "unsubscribe"), 1714039000,
                                       "[取消关注]", automatic="wechat_event:unsubscribe")),
    ("event__click.xml", message(event_key(1714036100, "CLICK", "CONTACT_SUPPORT"), 1714036100,
                                 "[点击菜单] CONTACT_SUPPORT", automatic="wechat_event:click")),
    ("event__scan.xml", message(event_key(1714036200, "SCAN", "123123"), 1714036200,
                                "[扫描二维码] 场景 123123", automatic="wechat_event:scan")),
    ("event__view.xml", message(
        event_key(1714036300, "VIEW", "https://shop.example.com/orders"), 1714036300,
        "[打开菜单链接] https://shop.example.com/orders", automatic="wechat_event:view")),
    ("event__location.xml", message(event_key(1714036400, "LOCATION"), 1714036400,
                                    "[上报位置] (23.137466, 113.352425) 精度 119.385040",
                                    automatic="wechat_event:location")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "expected"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_every_fixture_parses_into_its_whole_inbound_message(
    name: str, expected: InboundMessage
) -> None:
    assert parse(read_xml(fixture(name)), "tp-wechat", received_at=RECEIVED) == expected


def test_every_fixture_file_is_covered_by_a_test() -> None:
    covered = {c[0] for c in PARSE_CASES} | set(HOSTILE) | {
        "text__safe_mode.xml", "text__compatible_mode.xml", "garbage__json_body.xml",
        "garbage__wrong_root.xml", "text__missing_sender.xml",
    }  # fmt: skip

    assert {p.name for p in DATA.glob("*.xml")} == covered


def test_push_without_a_sender_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload, match="FromUserName"):
        parse(read_xml(fixture("text__missing_sender.xml")), "tp-wechat")


def test_two_events_in_the_same_second_get_different_dedupe_keys() -> None:
    base = {"FromUserName": OPENID, "CreateTime": "1714036100", "MsgType": "event"}

    click = dedupe_key(base | {"Event": "CLICK", "EventKey": "ORDERS"})
    view = dedupe_key(base | {"Event": "VIEW", "EventKey": "https://shop.example.com/"})

    assert click != view


def test_event_with_a_very_long_key_still_fits_the_dedupe_column() -> None:
    fields = {"FromUserName": OPENID, "CreateTime": "1714036100", "MsgType": "event",
              "Event": "VIEW", "EventKey": "https://shop.example.com/?q=" + "x" * 1000}  # fmt: skip

    assert len(dedupe_key(fields)) <= 512
    assert dedupe_key(fields) == dedupe_key(dict(fields))


def test_message_without_msg_id_falls_back_to_sender_and_time() -> None:
    fields = read_xml(xml_of({"ToUserName": GH, "FromUserName": OPENID, "CreateTime": 1714037059,
                              "MsgType": "text", "Content": "hi"}).encode())  # fmt: skip

    assert dedupe_key(fields) == f"text:{OPENID}:1714037059"


def test_the_file_watch_of_these_tests_does_see_a_file_being_opened() -> None:
    with files_opened() as opened:
        (DATA / "text__plain.xml").read_bytes()

    assert any(path.endswith("text__plain.xml") for path in opened)
