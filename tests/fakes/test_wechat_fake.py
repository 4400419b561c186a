"""The fake WeChat's own tests: it rejects what WeChat rejects and pushes the way WeChat pushes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from wechatpy import WeChatClient
from wechatpy.crypto import WeChatCrypto

from fakes.wechat import SERVICE_UNAVAILABLE, FakeWeChat, encrypt, read_xml, sign, xml_of

APP_ID, SECRET = "wx0123456789abcdef", "0123456789abcdef0123456789abcdef"
TOKEN, AES_KEY = "omnideskToken2024", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"
OFFICIAL_ENCRYPT = (
    "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZq"
    "zDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2"
    "Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOB"
    "rebufAlr7F9mFUPAJGj04="
)


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat(APP_ID, SECRET, token=TOKEN, encoding_aes_key=AES_KEY, deadline=0.5) as server:
        yield server


class Receiver:
    """Our side of a push: records each request and answers (status, body, delay) in turn."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[tuple[int, bytes, float]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bytes) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                receiver.received.append({"path": self.path, "query": query, "body": body})
                status, answer, delay = (
                    receiver.answers.pop(0) if receiver.answers else (200, b"success", 0.0)
                )
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self) -> None:
                self._answer(b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/tp-wechat"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    thread.join(5)


def get_token(fake: FakeWeChat) -> str:
    query = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    return str(httpx.get(f"{fake.base_url}/cgi-bin/token", params=query).json()["access_token"])


def stable(fake: FakeWeChat, **overrides: Any) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET} | overrides
    return httpx.post(f"{fake.base_url}/cgi-bin/stable_token", json=body).json()  # type: ignore[no-any-return]


def send(fake: FakeWeChat, token: str | None, touser: str = OPENID, text: str = "您好") -> Any:
    body = json.dumps({"touser": touser, "msgtype": "text", "text": {"content": text}},
                      ensure_ascii=False).encode()  # fmt: skip
    query = {"access_token": token} if token is not None else {}
    url = f"{fake.base_url}/cgi-bin/message/custom/send"
    response = httpx.post(url, params=query, content=body)
    assert response.status_code == 200  # WeChat answers errors with HTTP 200
    return response.json()


def open_window(fake: FakeWeChat, receiver: Receiver, openid: str = OPENID) -> None:
    assert fake.push_text(receiver.url, openid, "在吗？") is not None


# -- official vectors (protocols 2.2) ------------------------------------------------------------


def test_fake_signs_like_the_official_vectors() -> None:
    assert sign("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert sign("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    assert sign("AAAAA", "1714112445", "415670741") == "6c5c811b55cc85e0e1b54100749188c20beb3f5d"
    msg_signature = sign("AAAAA", "1714112445", "415670741", OFFICIAL_ENCRYPT)
    assert msg_signature == "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"


def test_fake_encrypts_the_official_reply_vector() -> None:
    sealed, msg_signature = encrypt("AAAAA", "A" * 43, "wxba5fad812f8e6fb9",
                                    '{"demo_resp":"good luck"}', "415670741", "1713424427",
                                    random16="707722b803182950")  # fmt: skip

    assert msg_signature == "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
    crypto = WeChatCrypto("AAAAA", "A" * 43, "wxba5fad812f8e6fb9")
    plain = crypto.decrypt_message({"Encrypt": sealed}, msg_signature, "1713424427", "415670741")
    assert plain == '{"demo_resp":"good luck"}'


# -- access tokens (protocols 2.5) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "errcode"),
    [
        pytest.param({"appid": "wxffffffffffffffff"}, 40013, id="unknown_appid"),
        pytest.param({"secret": "f" * 32}, 40001, id="wrong_secret"),
        pytest.param({"grant_type": "password"}, 40002, id="wrong_grant_type"),
    ],
)
def test_token_endpoint_refuses_bad_credentials(
    fake: FakeWeChat, query: dict[str, str], errcode: int
) -> None:
    params = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET} | query

    response = httpx.get(f"{fake.base_url}/cgi-bin/token", params=params)

    assert response.status_code == 200
    assert response.json()["errcode"] == errcode
    assert "rid: " in response.json()["errmsg"]


def test_each_token_call_issues_a_new_token_and_the_old_one_lives_five_minutes(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    open_window(fake, receiver)
    first = httpx.get(f"{fake.base_url}/cgi-bin/token", params={
        "grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}).json()  # fmt: skip
    second = get_token(fake)

    assert first["expires_in"] == 7200
    assert first["access_token"] != second
    assert len(first["access_token"]) >= 136
    fake.advance(299)
    assert send(fake, first["access_token"])["errcode"] == 0
    fake.advance(2)
    assert send(fake, first["access_token"])["errcode"] == 40001
    assert send(fake, second)["errcode"] == 0


def test_token_expires_after_7200_seconds(fake: FakeWeChat, receiver: Receiver) -> None:
    open_window(fake, receiver)
    token = get_token(fake)

    fake.advance(7201)

    assert send(fake, token)["errcode"] == 42001


def test_token_endpoint_enforces_the_ip_whitelist_and_the_daily_quota() -> None:
    with FakeWeChat(APP_ID, SECRET, token=TOKEN, ip_whitelist={"10.0.0.1"}) as fake:
        assert stable(fake)["errcode"] == 40164
    with FakeWeChat(APP_ID, SECRET, token=TOKEN, token_daily_quota=2) as fake:
        get_token(fake), get_token(fake)
        query = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
        assert httpx.get(f"{fake.base_url}/cgi-bin/token", params=query).json()["errcode"] == 45009


def test_stable_token_is_the_same_while_valid_and_renewed_in_its_last_five_minutes(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    open_window(fake, receiver)
    first = stable(fake)
    fake.advance(6000)
    again = stable(fake)
    fake.advance(950)  # 250 s left: renewed, the old one keeps working until it expires
    renewed = stable(fake)

    assert again["access_token"] == first["access_token"]
    assert 1190 <= again["expires_in"] <= 1200
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200
    assert send(fake, first["access_token"])["errcode"] == 0
    fake.advance(300)
    assert send(fake, first["access_token"])["errcode"] == 42001
    assert send(fake, renewed["access_token"])["errcode"] == 0


def test_stable_token_force_refresh_invalidates_at_once_and_is_rate_limited(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    open_window(fake, receiver)
    old = stable(fake)["access_token"]

    forced = stable(fake, force_refresh=True)
    too_soon = stable(fake, force_refresh=True)

    assert forced["access_token"] != old
    assert send(fake, old)["errcode"] == 40001
    assert too_soon["errcode"] == 45011
    for _ in range(19):
        fake.advance(31)
        assert "access_token" in stable(fake, force_refresh=True)
    fake.advance(31)
    assert stable(fake, force_refresh=True)["errcode"] == 45009


def test_stable_token_refuses_a_body_that_is_not_json(fake: FakeWeChat) -> None:
    response = httpx.post(f"{fake.base_url}/cgi-bin/stable_token", content=b"appid=wx")

    assert response.json()["errcode"] == 47001


# -- customer-service messages (protocols 2.6, 2.7) ---------------------------------------------


def test_custom_send_checks_the_access_token(fake: FakeWeChat, receiver: Receiver) -> None:
    open_window(fake, receiver)

    assert send(fake, None)["errcode"] == 41001
    assert send(fake, "not-a-token")["errcode"] == 40001
    assert send(fake, get_token(fake))["errcode"] == 0


def test_custom_send_refuses_an_unknown_openid(fake: FakeWeChat) -> None:
    assert send(fake, get_token(fake), touser="o_unknown_openid_000000000000")["errcode"] == 40003


def test_custom_send_records_utf8_json_sent_without_content_type(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    open_window(fake, receiver)
    client = WeChatClient(APP_ID, SECRET, access_token=get_token(fake), auto_retry=False)
    client.API_BASE_URL = f"{fake.base_url}/cgi-bin/"

    client.message.send_text(OPENID, "您的订单已发货")  # wechatpy sends no Content-Type

    assert fake.sent[-1]["content"] == "您的订单已发货"
    assert fake.sent[-1]["content_type"] is None
    assert "您的订单已发货".encode() in fake.sent[-1]["raw"]


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        pytest.param(b"{not json", 47001, id="not_json"),
        pytest.param(b'{"touser":"%s","msgtype":"fax"}', 40008, id="unknown_msgtype"),
        pytest.param(b'{"touser":"%s","msgtype":"text","text":{"content":""}}', 44004, id="empty"),
    ],
)
def test_custom_send_refuses_malformed_messages(
    fake: FakeWeChat, receiver: Receiver, body: bytes, errcode: int
) -> None:
    open_window(fake, receiver)
    url = f"{fake.base_url}/cgi-bin/message/custom/send?access_token={get_token(fake)}"

    answer = httpx.post(url, content=body.replace(b"%s", OPENID.encode())).json()

    assert answer["errcode"] == errcode


def test_customer_message_allows_five_replies_within_48_hours(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    token = get_token(fake)
    fake.add_follower(OPENID)
    assert send(fake, token)["errcode"] == 45015  # a follower who never wrote
    open_window(fake, receiver)

    answers = [send(fake, token)["errcode"] for _ in range(6)]

    assert answers == [0, 0, 0, 0, 0, 45047]
    open_window(fake, receiver)  # writing again restores the quota
    assert send(fake, token)["errcode"] == 0
    fake.advance(48 * 3600 + 1)
    assert send(fake, get_token(fake))["errcode"] == 45015


def test_unsubscribe_closes_the_window(fake: FakeWeChat, receiver: Receiver) -> None:
    open_window(fake, receiver)
    token = get_token(fake)

    fake.push_event(receiver.url, OPENID, "unsubscribe")

    assert send(fake, token)["errcode"] == 45015


def test_follow_event_allows_three_replies_within_a_minute(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    fake.push_event(receiver.url, "o_new_follower_000000000000", "subscribe")
    token = get_token(fake)

    answers = [send(fake, token, touser="o_new_follower_000000000000")["errcode"] for _ in range(4)]

    assert answers == [0, 0, 0, 45047]
    fake.push_event(receiver.url, "o_new_follower_000000000000", "CLICK", "CONTACT")
    fake.advance(61)
    assert send(fake, token, touser="o_new_follower_000000000000")["errcode"] == 45015


@pytest.mark.parametrize("errcode", [-1, 45011, 40001])
def test_switches_answer_the_next_send_with_an_errcode(
    fake: FakeWeChat, receiver: Receiver, errcode: int
) -> None:
    open_window(fake, receiver)
    token = get_token(fake)
    fake.fail_next(errcode)

    assert send(fake, token)["errcode"] == errcode
    assert send(fake, token)["errcode"] == 0
    assert len(fake.sent) == 1


def test_wrong_http_method_is_refused_and_unknown_paths_are_404(fake: FakeWeChat) -> None:
    url = f"{fake.base_url}/cgi-bin/message/custom/send"

    assert httpx.get(url).json()["errcode"] == 43002
    assert httpx.get(f"{fake.base_url}/cgi-bin/nothing").status_code == 404


# -- push driver (protocols 2.1-2.4) ----------------------------------------------------------


def test_safe_mode_push_carries_only_the_envelope_and_a_valid_msg_signature(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    fake.push_text(receiver.url, OPENID, "你好", msg_id=24527183720716364)

    request = receiver.received[0]
    envelope, query = read_xml(request["body"]), request["query"]
    assert set(envelope) == {"ToUserName", "Encrypt"}
    assert query["encrypt_type"] == "aes"
    assert query["openid"] == OPENID
    assert query["signature"] == sign(TOKEN, query["timestamp"], query["nonce"])
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    plain = read_xml(crypto.decrypt_message(
        envelope, query["msg_signature"], query["timestamp"], query["nonce"]).encode())  # fmt: skip
    assert (plain["Content"], plain["MsgId"], plain["MsgType"]) == (
        "你好",
        "24527183720716364",
        "text",
    )


def test_plain_and_compatible_pushes_carry_the_plain_fields(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    fake.push_text(receiver.url, OPENID, "plain", mode="plain")
    fake.push_text(receiver.url, OPENID, "both", mode="compatible")

    plain, compatible = (read_xml(r["body"]) for r in receiver.received)
    assert plain["Content"] == "plain"
    assert "Encrypt" not in plain
    assert "msg_signature" not in receiver.received[0]["query"]
    assert compatible["Content"] == "both"
    assert compatible["Encrypt"]


def test_late_answer_is_retried_byte_identical(fake: FakeWeChat, receiver: Receiver) -> None:
    receiver.answers = [(200, b"success", 0.8)]  # past the (shortened) 5 s deadline

    response = fake.push_text(receiver.url, OPENID, "hello")

    assert response is not None
    assert response.content == b"success"
    assert len(receiver.received) == 2
    assert receiver.received[0] == receiver.received[1]
    assert [a["accepted"] for a in fake.pushes[0].attempts] == [False, True]
    assert fake.customer_notices == []


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((200, b'{"ok": true}', 0.0), id="json"),
        pytest.param((500, b"success", 0.0), id="server_error"),
        pytest.param(
            (200, b"<xml><Content>hi</Content></xml>", 0.0), id="plain_reply_in_safe_mode"
        ),
    ],
)
def test_invalid_answers_are_retried_and_the_customer_sees_service_unavailable(
    fake: FakeWeChat, receiver: Receiver, answer: tuple[int, bytes, float]
) -> None:
    receiver.answers = [answer] * 4

    fake.push_text(receiver.url, OPENID, "hello")

    assert len(receiver.received) == 4  # the first delivery and three retries
    assert not fake.pushes[0].accepted
    assert fake.customer_notices == [{"openid": OPENID, "text": SERVICE_UNAVAILABLE}]


def test_empty_answer_and_encrypted_passive_reply_are_accepted(
    fake: FakeWeChat, receiver: Receiver
) -> None:
    reply = xml_of({"ToUserName": OPENID, "FromUserName": "gh_97417a04a28d",
                    "CreateTime": 1714037059, "MsgType": "text", "Content": "您好"})  # fmt: skip
    sealed = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(reply, "12345", "1714037059")
    receiver.answers = [(200, b"", 0.0), (200, sealed.encode(), 0.0)]

    fake.push_text(receiver.url, OPENID, "one")
    fake.push_text(receiver.url, OPENID, "two")

    assert [p.accepted for p in fake.pushes] == [True, True]
    assert len(receiver.received) == 2
    assert fake.passive_replies[0]["Content"] == "您好"


def test_redeliver_posts_the_same_bytes_again(fake: FakeWeChat, receiver: Receiver) -> None:
    fake.push_text(receiver.url, OPENID, "hello")

    fake.redeliver()
    fake.redeliver()

    assert len(receiver.received) == 3
    assert receiver.received[0] == receiver.received[1] == receiver.received[2]


def test_url_verification_requires_the_exact_echostr(fake: FakeWeChat, receiver: Receiver) -> None:
    receiver.answers = [(200, b"8613800138000", 0.0), (200, b"8613800138000\n", 0.0)]

    assert fake.verify_url(receiver.url, echostr="8613800138000")
    assert not fake.verify_url(receiver.url, echostr="8613800138000")
    query = receiver.received[0]["query"]
    assert query["signature"] == sign(TOKEN, query["timestamp"], query["nonce"])


def test_push_timestamps_follow_the_fake_clock(fake: FakeWeChat, receiver: Receiver) -> None:
    fake.advance(-3600)

    fake.push_event(receiver.url, OPENID, "subscribe")

    assert abs(int(receiver.received[0]["query"]["timestamp"]) - (time.time() - 3600)) < 5
