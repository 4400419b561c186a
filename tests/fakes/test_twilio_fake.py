"""The fake Twilio's own tests: it rejects what Twilio rejects and speaks Twilio's wire format."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from fakes.twilio import FakeTwilio, post_webhook, sign, sms_params, voice_params

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "secret-token"
OTHER_ACCOUNT = "AC" + "fedcba9876543210" * 2
OTHER_TOKEN = "other-token"
OUR_NUMBER = "+15005550006"
CUSTOMER = "+8613800138000"
SERVICE = "MG" + "a" * 32
SID = re.compile(r"^SM[0-9a-f]{32}$")
RFC2822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set(threading.enumerate()) - before == set()


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    accounts = {ACCOUNT: TOKEN, OTHER_ACCOUNT: OTHER_TOKEN}
    with FakeTwilio(accounts, {ACCOUNT: [OUR_NUMBER], OTHER_ACCOUNT: ["+15005550010"]}) as server:
        yield server


@pytest.fixture(scope="module")
def shared() -> Iterator[FakeTwilio]:
    """One fake for the many table cases that leave no state behind (keeps the file fast)."""
    accounts = {ACCOUNT: TOKEN, OTHER_ACCOUNT: OTHER_TOKEN}
    with FakeTwilio(accounts, {ACCOUNT: [OUR_NUMBER], OTHER_ACCOUNT: ["+15005550010"]}) as server:
        yield server


@pytest.fixture(scope="module")
def test_fake() -> Iterator[FakeTwilio]:
    with FakeTwilio({ACCOUNT: TOKEN}, {ACCOUNT: []}, test_credentials=True) as server:
        yield server


class Receiver:
    """A plain HTTP server that records form POSTs and answers a scripted status and body."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[tuple[int, bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
                receiver.received.append({"path": self.path, "headers": self.headers, "form": form})
                status, body, kind = (receiver.answers or [(200, b"<Response/>", "text/xml")])[0]
                if receiver.answers:
                    receiver.answers.pop(0)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(5)


def messages_url(fake: FakeTwilio, account: str = ACCOUNT) -> str:
    return f"{fake.base_url}/2010-04-01/Accounts/{account}/Messages.json"


def send(
    fake: FakeTwilio, auth: tuple[str, str] | None = (ACCOUNT, TOKEN), **form: Any
) -> httpx.Response:
    fields = {"To": CUSTOMER, "From": OUR_NUMBER, "Body": "Your order has shipped"} | form
    fields = {key: value for key, value in fields.items() if value is not None}
    return httpx.post(messages_url(fake), data=fields, auth=auth, timeout=5)


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# -- signatures (§1.2) ----------------------------------------------------------------------


def test_sign_reproduces_the_official_twilio_signature_vector() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sign("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


# -- authentication and routing -------------------------------------------------------------

AUTH_CASES = [
    pytest.param((ACCOUNT, "wrong"), id="wrong_token"),
    pytest.param(("AC" + "9" * 32, TOKEN), id="unknown_account"),
    pytest.param((OTHER_ACCOUNT, OTHER_TOKEN), id="valid_credentials_of_another_account"),
    pytest.param(None, id="no_credentials"),
]


@pytest.mark.parametrize("auth", AUTH_CASES)
def test_wrong_credentials_are_refused_with_20003(shared: FakeTwilio, auth: Any) -> None:
    created = len(shared.messages)

    response = send(shared, auth=auth)

    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert len(shared.messages) == created


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(f"/2010-04-01/Accounts/{ACCOUNT}/Messagez.json", id="unknown_resource"),
        pytest.param(f"/2010-04-01/Accounts/{ACCOUNT}/Messages/SM{'0' * 32}.json", id="no_sid"),
        pytest.param("/2010-04-01/Nothing.json", id="outside_accounts"),
    ],
)
def test_unknown_paths_answer_404_with_20404(shared: FakeTwilio, path: str) -> None:
    response = httpx.get(shared.base_url + path, auth=(ACCOUNT, TOKEN))

    assert response.status_code == 404
    assert response.json()["code"] == 20404


# -- validation (§1.4, §1.6) ----------------------------------------------------------------

VALIDATION_CASES = [
    pytest.param({"To": None}, 21604, id="missing_to"),
    pytest.param({"From": None}, 21603, id="missing_from_and_service"),
    pytest.param({"Body": None}, 21602, id="missing_body_and_media"),
    pytest.param({"To": "13800138000"}, 21211, id="to_without_plus"),
    pytest.param({"To": "+0123456"}, 21211, id="to_starting_with_zero"),
    pytest.param({"To": "+1234567890123456"}, 21211, id="to_longer_than_15_digits"),
    pytest.param({"Body": "x" * 1601}, 21617, id="body_over_1600_chars"),
    pytest.param({"From": "+15005550010"}, 21606, id="from_of_another_account"),
    pytest.param({"From": None, "MessagingServiceSid": "MG123"}, 21705, id="bad_service_sid"),
    pytest.param({"StatusCallback": "https://my_host.example/cb"}, 21609, id="underscore_host"),
    pytest.param({"StatusCallback": "/relative/cb"}, 21609, id="relative_callback"),
]


@pytest.mark.parametrize(("overrides", "code"), VALIDATION_CASES)
def test_invalid_message_is_refused_with_twilios_code(
    shared: FakeTwilio, overrides: dict[str, Any], code: int
) -> None:
    created = len(shared.messages)

    response = send(shared, **overrides)

    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": response.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert len(shared.messages) == created


def test_json_body_is_not_read_as_a_form_so_to_is_missing(shared: FakeTwilio) -> None:
    response = httpx.post(messages_url(shared), json={"To": CUSTOMER}, auth=(ACCOUNT, TOKEN))

    assert response.json()["code"] == 21604


def test_opted_out_pair_is_refused_with_21610_until_opt_in(fake: FakeTwilio) -> None:
    fake.opt_out(OUR_NUMBER, CUSTOMER)
    assert send(fake).json()["code"] == 21610

    fake.opt_in(OUR_NUMBER, CUSTOMER)
    assert send(fake).status_code == 201


def test_blocked_region_is_refused_with_21408(fake: FakeTwilio) -> None:
    fake.block_region("+86")

    assert send(fake).json()["code"] == 21408
    assert send(fake, To="+447700900123").status_code == 201


# -- the created resource -------------------------------------------------------------------


def test_created_message_answers_201_with_twilios_resource_shape(fake: FakeTwilio) -> None:
    fake.script_outcome(CUSTOMER, [])

    response = send(fake, Body="Hello")

    assert response.status_code == 201
    body = response.json()
    assert SID.match(body["sid"])
    assert body | {"sid": "", "date_created": "", "date_updated": ""} == {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": "Hello",
        "date_created": "",
        "date_sent": None,
        "date_updated": "",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": OUR_NUMBER,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": "",
        "status": "queued",
        "subresource_uris": {"media": body["uri"].removesuffix(".json") + "/Media.json"},
        "to": CUSTOMER,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{body['sid']}.json",
    }
    assert RFC2822.match(body["date_created"])
    assert abs(parsedate_to_datetime(body["date_created"]) - datetime.now(UTC)) < timedelta(10)
    assert fake.messages[0]["sid"] == body["sid"]


def test_message_sids_are_unique(fake: FakeTwilio) -> None:
    sids = {send(fake).json()["sid"] for _ in range(20)}

    assert len(sids) == 20


def test_message_via_messaging_service_is_accepted_without_sender_yet(fake: FakeTwilio) -> None:
    fake.script_outcome(CUSTOMER, [])

    body = send(fake, From=None, MessagingServiceSid=SERVICE).json()

    assert (body["status"], body["from"], body["num_segments"]) == ("accepted", None, "0")
    assert body["messaging_service_sid"] == SERVICE


def test_message_with_media_is_an_mms(fake: FakeTwilio) -> None:
    media = ["https://example.com/a.jpg", "https://example.com/b.jpg"]
    form = {"To": CUSTOMER, "From": OUR_NUMBER, "MediaUrl": media}  # MediaUrl is repeated

    response = httpx.post(messages_url(fake), data=form, auth=(ACCOUNT, TOKEN))

    assert response.status_code == 201
    assert re.fullmatch(r"MM[0-9a-f]{32}", response.json()["sid"])
    assert response.json()["num_media"] == "2"


SEGMENT_CASES = [
    pytest.param("a" * 160, "1", id="160_gsm7"),
    pytest.param("a" * 161, "2", id="161_gsm7"),
    pytest.param("a" * 307, "3", id="307_gsm7"),
    pytest.param("您" * 70, "1", id="70_ucs2"),
    pytest.param("您" * 71, "2", id="71_ucs2"),
    pytest.param("您" * 135, "3", id="135_ucs2"),
    pytest.param("[" * 80, "1", id="80_escaped_gsm7"),
    pytest.param("[" * 81, "2", id="81_escaped_gsm7"),
    pytest.param("a" * 152 + "€" + "a" * 152, "3", id="escape_never_split_across_parts"),
    pytest.param("a" * 159 + "您", "3", id="one_chinese_char_switches_whole_message"),
    pytest.param("😀" * 35, "1", id="35_emoji_70_units"),
    pytest.param("😀" * 36, "2", id="36_emoji_72_units"),
]


@pytest.mark.parametrize(("body", "expected"), SEGMENT_CASES)
def test_num_segments_follows_gsm7_and_ucs2_rules(
    shared: FakeTwilio, body: str, expected: str
) -> None:
    assert send(shared, Body=body).json()["num_segments"] == expected


# -- scripted failures ----------------------------------------------------------------------


def test_fail_next_500_answers_twilio_json_then_the_next_post_succeeds(fake: FakeTwilio) -> None:
    fake.fail_next(500, 20500, message="Internal Server Error")

    first, second = send(fake), send(fake)

    assert (first.status_code, first.json()["code"], first.json()["status"]) == (500, 20500, 500)
    assert second.status_code == 201
    assert len(fake.messages) == 1


def test_fail_next_429_answers_20429_for_the_given_count(fake: FakeTwilio) -> None:
    fake.fail_next(429, 20429, count=2)

    answers = [send(fake) for _ in range(3)]

    assert [r.status_code for r in answers] == [429, 429, 201]
    assert answers[0].json()["code"] == 20429
    assert answers[0].json()["more_info"] == "https://www.twilio.com/docs/errors/20429"


def test_hang_next_makes_the_client_time_out_but_the_message_exists(fake: FakeTwilio) -> None:
    fake.hang_next(1.0)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(messages_url(fake), data={"To": CUSTOMER, "From": OUR_NUMBER, "Body": "x"},
                   auth=(ACCOUNT, TOKEN), timeout=0.2)  # fmt: skip

    assert len(fake.messages) == 1
    assert send(fake).status_code == 201


def test_requests_are_recorded_with_form_and_answer(fake: FakeTwilio) -> None:
    send(fake, auth=(ACCOUNT, "wrong"))
    send(fake)

    assert [(r["method"], r["status"]) for r in fake.requests] == [("POST", 401), ("POST", 201)]
    assert fake.requests[1]["form"]["To"] == CUSTOMER
    assert fake.requests[1]["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


# -- fetch and list -------------------------------------------------------------------------


def test_fetch_returns_the_current_state(fake: FakeTwilio) -> None:
    sid = send(fake).json()["sid"]
    wait_for(lambda: fake.messages[0]["status"] == "delivered")

    response = httpx.get(f"{messages_url(fake)[:-5]}/{sid}.json", auth=(ACCOUNT, TOKEN))

    assert response.status_code == 200
    assert response.json()["status"] == "delivered"
    assert RFC2822.match(response.json()["date_sent"])


def test_fetch_of_another_accounts_message_is_404(fake: FakeTwilio) -> None:
    sid = send(fake).json()["sid"]
    url = f"{messages_url(fake, OTHER_ACCOUNT)[:-5]}/{sid}.json"

    assert httpx.get(url, auth=(OTHER_ACCOUNT, OTHER_TOKEN)).json()["code"] == 20404


LIST_CASES = [
    pytest.param({"To": CUSTOMER}, 2, id="to"),
    pytest.param({"To": "+447700900123"}, 1, id="other_to"),
    pytest.param({"From": OUR_NUMBER}, 3, id="from"),
    pytest.param({"DateSent>": "today"}, 3, id="sent_on_or_after_today"),
    pytest.param({"DateSent<": "yesterday"}, 0, id="sent_on_or_before_yesterday"),
    pytest.param({"DateSent": "today"}, 3, id="sent_today"),
    pytest.param({"DateSent>": "tomorrow"}, 0, id="sent_after_tomorrow"),
    pytest.param({"To": CUSTOMER, "PageSize": "1"}, 1, id="page_size"),
]


@pytest.mark.parametrize(("filters", "count"), LIST_CASES)
def test_list_filters_by_to_from_and_date_sent(
    fake: FakeTwilio, filters: dict[str, str], count: int
) -> None:
    for to in (CUSTOMER, CUSTOMER, "+447700900123"):
        send(fake, To=to)
    wait_for(lambda: all(m["date_sent"] for m in fake.messages))
    today = datetime.now(UTC).date()
    days = {"today": today, "yesterday": today - timedelta(1), "tomorrow": today + timedelta(1)}
    query = {k: str(days.get(v, v)) for k, v in filters.items()}

    page = httpx.get(messages_url(fake), params=query, auth=(ACCOUNT, TOKEN)).json()

    assert len(page["messages"]) == count
    assert (page["page"], page["page_size"]) == (0, int(filters.get("PageSize", 50)))
    assert {"uri", "first_page_uri", "next_page_uri", "previous_page_uri", "start", "end"} <= set(
        page
    )


# -- status callbacks (§1.5) ----------------------------------------------------------------


def callback_forms(receiver: Receiver, count: int) -> list[dict[str, str]]:
    wait_for(lambda: len(receiver.received) >= count)
    return [r["form"] for r in receiver.received]


def test_status_callbacks_are_signed_for_the_exact_url(
    fake: FakeTwilio, receiver: Receiver
) -> None:
    url = f"{receiver.url}/twilio/status?tenant=7"

    sid = send(fake, StatusCallback=url).json()["sid"]

    forms = callback_forms(receiver, 2)
    assert [f["MessageStatus"] for f in forms] == ["sent", "delivered"]
    validator = RequestValidator(TOKEN)
    for request in receiver.received:
        signature = request["headers"]["X-Twilio-Signature"]
        assert validator.validate(url, request["form"], signature)
        assert not validator.validate(url.replace("7", "8"), request["form"], signature)
        assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert set(forms[0]) == {
        "AccountSid", "From", "To", "MessageSid", "SmsSid", "SmsStatus", "MessageStatus",
        "ApiVersion",
    }  # fmt: skip
    assert forms[0]["MessageSid"] == forms[0]["SmsSid"] == sid
    assert re.fullmatch(r"\d{10}", forms[1]["RawDlrDoneDate"])
    assert "ErrorCode" not in forms[1]
    wait_for(lambda: len(fake.callbacks) == 2)
    assert [c["status"] for c in fake.callbacks] == [200, 200]


def test_scripted_undelivered_outcome_carries_error_code(
    fake: FakeTwilio, receiver: Receiver
) -> None:
    fake.script_outcome(CUSTOMER, ["sent", "undelivered"], error_code=30003)

    sid = send(fake, StatusCallback=f"{receiver.url}/status").json()["sid"]

    last = callback_forms(receiver, 2)[-1]
    assert (last["MessageStatus"], last["ErrorCode"]) == ("undelivered", "30003")
    assert "RawDlrDoneDate" in last
    fetched = httpx.get(f"{messages_url(fake)[:-5]}/{sid}.json", auth=(ACCOUNT, TOKEN)).json()
    assert (fetched["status"], fetched["error_code"]) == ("undelivered", 30003)


def test_reordered_callbacks_never_move_the_resource_status_back(
    fake: FakeTwilio, receiver: Receiver
) -> None:
    fake.script_outcome(CUSTOMER, ["delivered", "sent", "sent"])

    send(fake, StatusCallback=f"{receiver.url}/status")

    assert [f["MessageStatus"] for f in callback_forms(receiver, 3)] == [
        "delivered",
        "sent",
        "sent",
    ]
    assert fake.messages[0]["status"] == "delivered"


def test_callback_delay_holds_status_changes_and_callbacks(receiver: Receiver) -> None:
    with FakeTwilio({ACCOUNT: TOKEN}, {ACCOUNT: [OUR_NUMBER]}, callback_delay=0.3) as fake:
        send(fake, StatusCallback=f"{receiver.url}/status")
        time.sleep(0.1)
        assert fake.messages[0]["status"] == "queued"
        assert receiver.received == []

        assert [f["MessageStatus"] for f in callback_forms(receiver, 2)] == ["sent", "delivered"]


def test_message_without_status_callback_sends_none(fake: FakeTwilio) -> None:
    send(fake)
    wait_for(lambda: fake.messages[0]["status"] == "delivered")

    assert fake.callbacks == []


# -- test credentials -----------------------------------------------------------------------


def test_test_credentials_send_no_callbacks_and_cannot_fetch(
    test_fake: FakeTwilio, receiver: Receiver
) -> None:
    response = send(test_fake, StatusCallback=f"{receiver.url}/status")
    time.sleep(0.2)

    assert response.status_code == 201
    assert receiver.received == []
    assert test_fake.callbacks == []
    fetched = httpx.get(messages_url(test_fake), auth=(ACCOUNT, TOKEN))
    assert (fetched.status_code, fetched.json()["code"]) == (403, 20008)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"To": "+15005550001"}, 21211, id="invalid_to"),
        pytest.param({"To": "+15005550003"}, 21408, id="no_international_permission"),
        pytest.param({"To": "+15005550004"}, 21610, id="blocked_to"),
        pytest.param({"To": "+15005550009"}, 21614, id="not_mobile"),
        pytest.param({"From": "+15005550001"}, 21212, id="invalid_from"),
        pytest.param({"From": "+15005550007"}, 21606, id="from_not_owned"),
    ],
)
def test_test_credentials_magic_numbers_return_their_errors(
    test_fake: FakeTwilio, overrides: dict[str, str], code: int
) -> None:
    assert send(test_fake, **overrides).json()["code"] == code


# -- the real twilio SDK against the fake (§1.4) --------------------------------------------


def test_twilio_sdk_sends_fetches_and_lists_through_the_fake(fake: FakeTwilio) -> None:
    client = Client(ACCOUNT, TOKEN)
    client.api.base_url = fake.base_url

    message = client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="已发货")

    assert SID.match(message.sid)
    assert message.status == "queued"
    assert client.messages(message.sid).fetch().body == "已发货"
    wait_for(lambda: fake.messages[0]["date_sent"] is not None)
    listed = client.messages.list(to=CUSTOMER, date_sent_after=datetime.now(UTC) - timedelta(1))
    assert [m.sid for m in listed] == [message.sid]


def test_twilio_sdk_raises_rest_exception_with_21211_for_a_bad_to(shared: FakeTwilio) -> None:
    client = Client(ACCOUNT, TOKEN)
    client.api.base_url = shared.base_url

    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="12345", from_=OUR_NUMBER, body="x")

    assert (caught.value.status, caught.value.code) == (400, 21211)


# -- inbound driver (§1.1, §1.3, §1.8, §1.9) ------------------------------------------------


def test_sms_params_have_twilios_inbound_parameter_set() -> None:
    params = sms_params(ACCOUNT, CUSTOMER, OUR_NUMBER, "你好")

    assert re.fullmatch(r"SM[0-9a-f]{32}", params["MessageSid"])
    assert params["MessageSid"] == params["SmsSid"] == params["SmsMessageSid"]
    expected = {
        "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER, "Body": "你好",
        "NumSegments": "1", "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01",
        "FromCountry": "CN", "ToCountry": "US",
    }  # fmt: skip
    assert params.items() >= expected.items()


def test_mms_params_number_their_media() -> None:
    media = [("https://x.test/1", "image/jpeg"), ("https://x.test/2", "image/png")]

    params = sms_params(ACCOUNT, CUSTOMER, OUR_NUMBER, "", media)

    assert params["MessageSid"].startswith("MM")
    assert params["NumMedia"] == "2"
    assert (params["MediaUrl1"], params["MediaContentType1"]) == media[1]


def test_voice_params_have_the_call_parameter_set() -> None:
    params = voice_params(ACCOUNT, CUSTOMER, OUR_NUMBER)

    assert re.fullmatch(r"CA[0-9a-f]{32}", params["CallSid"])
    assert (params["CallStatus"], params["Direction"], params["Caller"]) == (
        "ringing",
        "inbound",
        CUSTOMER,
    )


def test_post_webhook_sends_a_signed_form_like_twilio(receiver: Receiver) -> None:
    url = f"{receiver.url}/twilio/sms?x=1"
    params = sms_params(ACCOUNT, CUSTOMER, OUR_NUMBER, "hello & 再见")

    response = post_webhook(url, TOKEN, params)

    request = receiver.received[0]
    assert response.status_code == 200
    assert request["form"] == params
    assert request["headers"]["User-Agent"] == "TwilioProxy/1.1"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert RequestValidator(TOKEN).validate(url, params, request["headers"]["X-Twilio-Signature"])


def test_post_webhook_can_send_a_forged_signature(receiver: Receiver) -> None:
    post_webhook(f"{receiver.url}/sms", TOKEN, {"Body": "x"}, signature="forged")

    assert receiver.received[0]["headers"]["X-Twilio-Signature"] == "forged"


def test_stop_keyword_blocks_the_pair_and_start_lifts_it(
    fake: FakeTwilio, receiver: Receiver
) -> None:
    fake.deliver_sms(f"{receiver.url}/sms", CUSTOMER, OUR_NUMBER, " stop ")
    assert send(fake).json()["code"] == 21610

    fake.deliver_sms(f"{receiver.url}/sms", CUSTOMER, OUR_NUMBER, "START")
    assert send(fake).status_code == 201
    assert [r["form"]["Body"] for r in receiver.received] == [" stop ", "START"]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((500, b"<Response/>", "text/xml"), id="server_error"),
        pytest.param((200, b'{"ok": true}', "application/json"), id="json_instead_of_twiml"),
    ],
)
def test_failed_inbound_webhook_goes_to_the_fallback_url(
    fake: FakeTwilio, receiver: Receiver, answer: tuple[int, bytes, str]
) -> None:
    receiver.answers = [answer]

    response = fake.deliver_sms(
        f"{receiver.url}/sms", CUSTOMER, OUR_NUMBER, "hi", fallback_url=f"{receiver.url}/fallback"
    )

    assert response is not None
    assert response.status_code == 200
    assert [r["path"] for r in receiver.received] == ["/sms", "/fallback"]
    assert [w["accepted"] for w in fake.webhooks] == [False, True]


def test_inbound_sms_is_listed_for_reconciliation(fake: FakeTwilio, receiver: Receiver) -> None:
    fake.deliver_sms(f"{receiver.url}/sms", CUSTOMER, OUR_NUMBER, "where is my order?")
    today = str(datetime.now(UTC).date())

    query = {"To": OUR_NUMBER, "DateSent>": today}
    page = httpx.get(messages_url(fake), params=query, auth=(ACCOUNT, TOKEN)).json()

    assert [m["direction"] for m in page["messages"]] == ["inbound"]
    assert page["messages"][0]["sid"] == receiver.received[0]["form"]["MessageSid"]
