"""The fake Weibo's own tests: it signs and retries like Weibo and refuses what Weibo refuses."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from fakes.weibo import FakeWeibo, decode_data, signature, weibo_date

SECRET = "weibo-app-secret"
TOKEN = "2.00weibo-access-token"
OTHER_TOKEN = "2.00other-token"
UID = 1902538057
CUSTOMER = 2489518277


@pytest.fixture
def fake() -> Iterator[FakeWeibo]:
    with FakeWeibo(SECRET, {TOKEN: UID, OTHER_TOKEN: 5555}, push_timeout=0.5) as server:
        yield server


class Receiver:
    """A plain HTTP server that records pushes and answers scripted (delay, status, body)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[tuple[float, int, bytes]] = []
        self.echo = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body_in: bytes) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                receiver.received.append({"method": self.command, "query": query, "body": body_in})
                delay, status, body = receiver.answers.pop(0) if receiver.answers else (0, 200, b"")
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self) -> None:
                echostr = dict(parse_qsl(urlsplit(self.path).query)).get("echostr", "")
                answer = echostr if receiver.echo else echostr + "\n"
                receiver.answers.insert(0, (0, 200, answer.encode()))
                self._answer(b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/tp-weibo"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def reply(fake: FakeWeibo, token: str | None = TOKEN, **overrides: Any) -> httpx.Response:
    form = {"type": "text", "receiver_id": str(CUSTOMER), "save_sender_box": "1"}
    form["data"] = quote(json.dumps({"text": "您好，已为您查询"}, ensure_ascii=False))
    if token is not None:
        form["access_token"] = token
    form |= overrides
    form = {k: v for k, v in form.items() if v is not None}
    return httpx.post(f"{fake.base_url}/2/messages/reply.json", data=form, trust_env=False)


# -- signing ---------------------------------------------------------------------------------


def test_signature_reproduces_the_official_vector():
    assert signature("xyz123xyz", "1397022061823", "57155157") == (
        "90e4c22c90a58f26526c2dd5b6c56c8822edeaa1"
    )


def test_pushes_are_signed_with_millisecond_timestamps(fake, receiver):
    before = time.time()
    fake.push_text(receiver.url, CUSTOMER, "你好")

    query = receiver.received[0]["query"]
    assert abs(int(query["timestamp"]) / 1000 - before) < 5
    assert len(query["timestamp"]) == 13
    assert query["signature"] == signature(SECRET, query["timestamp"], query["nonce"])


def test_verify_url_needs_the_exact_echostr(fake, receiver):
    assert fake.verify_url(receiver.url, echostr="dnPdpTZz85")
    query = receiver.received[0]["query"]
    assert query["signature"] == signature(SECRET, query["timestamp"], query["nonce"])

    # Anything but the exact echostr (here with a trailing newline) fails the check.
    receiver.echo = False
    assert not fake.verify_url(receiver.url, echostr="dnPdpTZz85")


# -- push bodies and retries -----------------------------------------------------------------


def test_push_body_is_json_with_int64_ids_and_weibo_dates(fake, receiver):
    fake.push_text(receiver.url, CUSTOMER, "订单什么时候到？")

    body = json.loads(receiver.received[0]["body"])
    assert body["type"] == "text"
    assert body["sender_id"] == CUSTOMER
    assert isinstance(body["sender_id"], int)
    assert body["receiver_id"] == UID
    assert body["data"] == {}
    day, month, _date, _clock, offset, year = body["created_at"].split()
    assert day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert offset == "+0800"
    assert len(year) == 4
    assert month.isalpha()


def test_events_and_media_have_the_documented_data(fake, receiver):
    fake.push_event(receiver.url, CUSTOMER, "follow")
    fake.push_event(receiver.url, CUSTOMER, "click", key="ORDER_STATUS")
    fake.push_message(receiver.url, "voice", CUSTOMER)
    position = {"longitude": "116.30", "latitude": "39.98"}
    fake.push_message(receiver.url, "position", CUSTOMER, data=position)

    follow, click, voice, located = (json.loads(r["body"]) for r in receiver.received)
    assert follow["data"] == {"subtype": "follow"}
    assert follow["text"] == "关注事件消息"
    assert click["data"]["key"] == "ORDER_STATUS"
    assert "ticket" in click["data"]
    assert set(voice["data"]) == {"vfid", "tovfid"}
    assert voice["text"] == "发了一个语音消息"
    assert located["data"] == position
    assert located["text"] == "发送了一个位置"


def test_late_answer_is_retried_byte_identically_three_times_in_all(fake, receiver):
    receiver.answers += [(1.0, 200, b""), (0, 500, b""), (0, 200, b"")]

    result = fake.push_text(receiver.url, CUSTOMER, "在吗")

    assert result.accepted
    assert len(receiver.received) == 3
    assert len({(r["body"], tuple(sorted(r["query"].items()))) for r in receiver.received}) == 1


def test_push_gives_up_after_three_attempts(fake, receiver):
    receiver.answers += [(0, 503, b"")] * 5

    result = fake.push_text(receiver.url, CUSTOMER, "在吗")

    assert not result.accepted
    assert [a["status"] for a in result.attempts] == [503, 503, 503]


def test_empty_answer_and_passive_reply_are_accepted_other_bodies_are_not(fake, receiver):
    passive = json.dumps(
        {
            "result": True,
            "sender_id": UID,
            "receiver_id": CUSTOMER,
            "type": "text",
            "data": quote('{"text":"收到"}'),
        }
    ).encode()
    receiver.answers += [(0, 200, passive), (0, 200, b"success"), (0, 200, b"")]

    first = fake.push_text(receiver.url, CUSTOMER, "a")
    second = fake.push_text(receiver.url, CUSTOMER, "b")

    assert first.accepted
    assert len(first.attempts) == 1
    assert second.accepted
    assert [a["accepted"] for a in second.attempts] == [False, True]


# -- the reply API ---------------------------------------------------------------------------


def test_reply_inside_the_window_is_recorded(fake):
    fake.contact(CUSTOMER)

    response = reply(fake)

    assert response.status_code == 200
    assert response.json()["idstr"] == str(response.json()["id"])
    assert fake.sent[0]["recipient_id"] == CUSTOMER
    assert fake.sent[0]["data"] == {"text": "您好，已为您查询"}


def test_data_is_read_at_one_or_two_url_encoding_levels(fake):
    fake.contact(CUSTOMER)
    data = quote('{"text":"纯文本回复"}')
    one_level = f"receiver_id={CUSTOMER}&type=text&data={data}&access_token={TOKEN}"

    one = httpx.post(
        f"{fake.base_url}/2/messages/reply.json",
        content=one_level,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    two = reply(fake)

    assert (one.status_code, two.status_code) == (200, 200)
    assert [s["data"]["text"] for s in fake.sent] == ["纯文本回复", "您好，已为您查询"]


def test_decode_data_refuses_what_is_not_a_json_object():
    with pytest.raises(Exception, match="10017"):
        decode_data("%5B1%2C2%5D")


def test_token_is_also_read_from_the_query_as_in_the_wiki_curl(fake):
    fake.contact(CUSTOMER)
    form = {"type": "text", "receiver_id": str(CUSTOMER), "data": quote('{"text":"hi"}')}
    response = httpx.post(f"{fake.base_url}/2/messages/reply.json?access_token={TOKEN}", data=form)
    assert response.status_code == 200


ERROR_CASES = [
    pytest.param({"token": None}, 401, "21301", id="missing-token"),
    pytest.param({"token": "2.00unknown"}, 401, "21332", id="unknown-token"),
    pytest.param({"type": None}, 400, "10016", id="missing-type"),
    pytest.param({"receiver_id": None}, 400, "10016", id="missing-receiver"),
    pytest.param({"type": "voice"}, 400, "10017", id="bad-type"),
    pytest.param({"receiver_id": "abc"}, 400, "10017", id="bad-receiver"),
    pytest.param({"data": "not-json"}, 400, "10017", id="bad-data"),
    pytest.param({"data": quote(json.dumps({"text": "长" * 300}))}, 400, "10017", id="300-chars"),
    pytest.param({"data": quote(json.dumps({"text": ""}))}, 400, "10017", id="empty-text"),
    pytest.param({"save_sender_box": "2"}, 400, "10017", id="bad-save-sender-box"),
]


@pytest.mark.parametrize(("overrides", "status", "code"), ERROR_CASES)
def test_reply_api_refuses_like_weibo(fake, overrides, status, code):
    fake.contact(CUSTOMER)
    token = overrides.pop("token", TOKEN)

    response = reply(fake, token, **overrides)

    assert response.status_code == status
    body = response.json()
    assert body == {"request": "/2/messages/reply.json", "error_code": code, "error": body["error"]}
    assert fake.sent == []


def test_text_of_299_characters_is_accepted(fake):
    fake.contact(CUSTOMER)
    assert reply(fake, data=quote(json.dumps({"text": "长" * 299}))).status_code == 200


def test_reply_without_contact_or_after_the_window_is_out_of_limit(fake):
    assert reply(fake).json()["error_code"] == "20016"
    fake.contact(CUSTOMER)
    fake.offset = 48 * 3600 + 1
    assert reply(fake).json()["error_code"] == "20016"


def test_window_is_configurable():
    with FakeWeibo(SECRET, {TOKEN: UID}, window_seconds=7 * 86400) as fake:
        fake.contact(CUSTOMER)
        fake.offset = 3 * 86400
        assert reply(fake).status_code == 200


def test_mention_allows_one_reply_only(fake):
    fake.contact(CUSTOMER, "mention")
    assert reply(fake).status_code == 200
    assert reply(fake).json()["error_code"] == "20016"


def test_unfollowed_receiver_is_refused_until_they_write_again(fake, receiver):
    fake.push_event(receiver.url, CUSTOMER, "unfollow")
    assert reply(fake).json()["error_code"] == "20603"
    fake.push_text(receiver.url, CUSTOMER, "我又关注了")
    assert reply(fake).status_code == 200


def test_message_window_allows_many_replies(fake):
    fake.contact(CUSTOMER)
    assert [reply(fake).status_code for _ in range(3)] == [200, 200, 200]


def test_window_is_per_account(fake):
    fake.contact(CUSTOMER)
    assert reply(fake, OTHER_TOKEN).json()["error_code"] == "20016"


@pytest.mark.parametrize(("code", "status"), [(10001, 500), (10023, 403), (21327, 401)])
def test_scripted_failures_answer_weibo_errors(fake, code, status):
    fake.contact(CUSTOMER)
    fake.fail_next(code)

    first, second = reply(fake), reply(fake)

    assert (first.status_code, first.json()["error_code"]) == (status, str(code))
    assert second.status_code == 200


def test_expired_token_stays_expired(fake):
    fake.contact(CUSTOMER)
    fake.expire_token(TOKEN)
    assert [reply(fake).json()["error_code"] for _ in range(2)] == ["21327", "21327"]


def test_get_uid_needs_a_valid_token_in_header_or_query(fake):
    header = httpx.get(
        f"{fake.base_url}/2/account/get_uid.json", headers={"Authorization": f"OAuth2 {TOKEN}"}
    )
    query = httpx.get(f"{fake.base_url}/2/account/get_uid.json", params={"access_token": TOKEN})
    missing = httpx.get(f"{fake.base_url}/2/account/get_uid.json")

    assert header.json() == {"uid": UID}
    assert query.json() == {"uid": UID}
    assert (missing.status_code, missing.json()["error_code"]) == (401, "21301")


def test_unknown_path_and_wrong_method_are_weibo_errors(fake):
    unknown = httpx.get(f"{fake.base_url}/2/messages/nothing.json")
    wrong = httpx.get(f"{fake.base_url}/2/messages/reply.json", params={"access_token": TOKEN})
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "10020")
    assert (wrong.status_code, wrong.json()["error_code"]) == (405, "10021")


def test_weibo_date_uses_english_names_and_beijing_time():
    from datetime import UTC, datetime

    assert weibo_date(datetime(2012, 7, 16, 10, 9, 20, tzinfo=UTC)) == (
        "Mon Jul 16 18:09:20 +0800 2012"
    )
