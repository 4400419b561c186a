"""Fake Twilio: Messages REST API, signed status callbacks, SMS and call drivers (§1, §5.1)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import dataclasses
import re
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
from defusedxml import ElementTree
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from twilio.request_validator import RequestValidator

from fakes._server import BackgroundServer
from fakes.twilio_media import CDN_PREFIX, MediaStore, silence_wav

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+?)(\.json|/.*)$")
MESSAGE_PATH = re.compile(r"^/Messages/([^/]+)\.json$")
MAX_BODY = 1600
DEFAULT_STATUSES = ("sent", "delivered")
DEFAULT_ERROR = {"undelivered": 30003, "failed": 30008}
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # escape + char: 2 septets (§1.7)
# Monotonic ranks for the resource's status; callbacks are still sent in scripted order (§1.5).
RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4}
RANK |= {"read": 5, "undelivered": 6, "failed": 6, "canceled": 6}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}
COUNTRY = {"1": "US", "44": "GB", "86": "CN", "852": "HK", "853": "MO", "886": "TW", "81": "JP"}
# Twilio test credentials' magic numbers (twilio.com/docs/iam/test-credentials).
TEST_FROM_ERRORS = {"+15005550001": 21212, "+15005550007": 21606, "+15005550008": 21611}
TEST_TO_ERRORS = {"+15005550001": 21211, "+15005550002": 21612, "+15005550003": 21408}
TEST_TO_ERRORS |= {"+15005550004": 21610, "+15005550009": 21614}
TEST_FROM_OK = "+15005550006"
MESSAGES = {
    20003: "Authenticate",
    20004: "Method not allowed",
    20008: "Resource not accessible with Test Account Credentials",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number "
    "for this destination/account.",
    21609: "Invalid StatusCallback url",
    21610: "Attempt to send to unsubscribed recipient",
    21611: "This 'From' number has exceeded the maximum number of queued messages",
    21612: "The 'To' phone number is not currently reachable via SMS.",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21705: "The Messaging Service is invalid",
    30003: "Unreachable destination handset",
    30007: "Message filtered",
    30008: "Unknown error",
}


class TwilioError(Exception):
    """A Twilio REST error: HTTP status plus Twilio error code."""

    def __init__(self, status: int, code: int, message: str | None = None) -> None:
        super().__init__(code)
        self.status, self.code = status, code
        self.message = message or MESSAGES.get(code, "Error")

    def body(self) -> dict[str, Any]:
        """Return Twilio's JSON error shape."""
        more_info = f"https://www.twilio.com/docs/errors/{self.code}"
        return {
            "code": self.code,
            "message": self.message,
            "more_info": more_info,
            "status": self.status,
        }


def segments(body: str) -> int:
    """Count SMS segments as Twilio does: GSM-7 160/153 septets, else UCS-2 70/67 units (§1.7)."""
    if all(c in GSM7 or c in GSM7_EXTENSION for c in body):
        units = [2 if c in GSM7_EXTENSION else 1 for c in body]
        single, part = 160, 153
    else:
        units = [len(c.encode("utf-16-le")) // 2 for c in body]
        single, part = 70, 67
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for size in units:  # an escape pair or a surrogate pair never straddles two parts
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def new_sid(prefix: str) -> str:
    """Return a Twilio-style SID: two-letter prefix plus 32 hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime) -> str:
    """Format a UTC datetime the way Twilio's JSON does ("Thu, 24 Aug 2023 05:01:45 +0000")."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Compute X-Twilio-Signature for a form POST to `url` (§1.2)."""
    return RequestValidator(auth_token).compute_signature(url, params)


def _geo(prefix: str, number: str) -> dict[str, str]:
    code = next(
        (c for c in ("852", "853", "886", "86", "81", "44", "1") if number[1:].startswith(c)), ""
    )
    return {
        f"{prefix}Country": COUNTRY.get(code, ""),
        f"{prefix}State": "",
        f"{prefix}City": "",
        f"{prefix}Zip": "",
    }


def sms_params(
    account_sid: str,
    from_: str,
    to: str,
    body: str,
    media: Iterable[tuple[str, str]] = (),
    message_sid: str | None = None,
) -> dict[str, str]:
    """Return the parameters of an inbound SMS/MMS webhook (§1.1); media is (url, content type)."""
    media = list(media)
    sid = message_sid or new_sid("MM" if media else "SM")
    params = {"ToCountry": "", **_geo("To", to), **_geo("From", from_), "SmsMessageSid": sid}
    params |= {"NumMedia": str(len(media)), "SmsSid": sid, "SmsStatus": "received", "Body": body}
    params |= {"To": to, "NumSegments": str(segments(body)), "MessageSid": sid}
    params |= {"AccountSid": account_sid, "From": from_, "ApiVersion": API_VERSION}
    for n, (url, content_type) in enumerate(media):
        params |= {f"MediaUrl{n}": url, f"MediaContentType{n}": content_type}
    return params


def voice_params(
    account_sid: str, from_: str, to: str, call_sid: str | None = None, call_status: str = "ringing"
) -> dict[str, str]:
    """Return the parameters of an inbound call webhook (§1.9)."""
    params = {"CallSid": call_sid or new_sid("CA"), "AccountSid": account_sid, "From": from_}
    params |= {"To": to, "Caller": from_, "Called": to, "CallStatus": call_status}
    params |= {"Direction": "inbound", "ApiVersion": API_VERSION, "CallToken": ""}
    for prefix, number in (("From", from_), ("Caller", from_), ("To", to), ("Called", to)):
        params |= _geo(prefix, number)
    return params


def post_webhook(
    url: str,
    auth_token: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    timeout: float = 15.0,
) -> httpx.Response:
    """POST `params` to `url` the way Twilio does: form-encoded and signed (§1.2, §1.3)."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "X-Twilio-Signature": sign(auth_token, url, params) if signature is None else signature,
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
    }
    return httpx.post(
        url, content=urlencode(params), headers=headers, timeout=timeout, trust_env=False
    )


def _is_twiml(response: httpx.Response) -> bool:
    """Twilio accepts an empty 2xx body or XML whose root is <Response> (else error 12100)."""
    if not response.is_success or not response.content.strip():
        return response.is_success
    try:
        return ElementTree.fromstring(response.content).tag == "Response"
    except Exception:  # noqa: BLE001 - any parse failure is "unparseable TwiML"
        return False


def _parse_date(value: str) -> datetime | date:
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _date_matches(sent: datetime, op: str, value: str) -> bool:
    try:
        bound = _parse_date(value)
    except ValueError as err:
        raise TwilioError(400, 20001, f"Invalid DateSent filter: {value}") from err
    left = sent.date() if type(bound) is date else sent.replace(microsecond=0)
    return {"": left == bound, ">": left >= bound, "<": left <= bound}[op]


class FakeTwilio:
    """A local Twilio (api.twilio.com) that validates like the real one; see protocols.md §5.1.

    Attributes (append-only, guarded by a lock):
        messages: outbound Message resources in creation order, updated in place as their status
            advances (scripted per `To`; the status never moves back, §1.5).
        inbound: Message resources of SMS delivered with `deliver_sms`.
        requests: every API request: method, path, query, form, form_items, status.
        callbacks: status callbacks sent: url, params, signature, status (None on network error).
        webhooks: inbound webhook attempts: url, params, status, accepted.

    `callback_delay` is waited before each scripted status change (and its callback).
    """

    def __init__(
        self,
        accounts: dict[str, str] | None = None,
        numbers: dict[str, list[str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        test_credentials: bool = False,
        callback_delay: float = 0.0,
    ) -> None:
        self.accounts = dict(accounts or {})
        self.numbers = {sid: list(owned) for sid, owned in (numbers or {}).items()}
        self.host, self.port = host, port
        self.test_credentials, self.callback_delay = test_credentials, callback_delay
        self.base_url = ""
        self.messages: list[dict[str, Any]] = []
        self.inbound: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.callbacks: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []
        self._by_sid: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._failures: list[TwilioError] = []
        self._hangs: list[float] = []
        self._outcomes: dict[str, tuple[list[str], int | None]] = {}
        self._opted_out: set[tuple[str, str]] = set()
        self._blocked_prefixes: list[str] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._http: BackgroundServer | None = None
        self.media = MediaStore()  # MMS media and recordings, served like api.twilio.com

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        """Serve in a daemon thread; return once the port accepts connections."""
        self._http = BackgroundServer(self._app, "fake Twilio")
        self.port = self._http.start(self.host, self.port)
        self.base_url = f"http://{self.host}:{self.port}"
        return self

    def stop(self) -> None:
        """Stop the server and the callback threads."""
        self._stopping.set()
        if self._http is not None:
            self._http.stop()
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout=10)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------
    def fail_next(self, status: int, code: int, count: int = 1, message: str | None = None) -> None:
        """Answer the next `count` Messages POSTs with this Twilio JSON error."""
        with self._lock:
            self._failures += [TwilioError(status, code, message)] * count

    def hang_next(self, seconds: float, count: int = 1) -> None:
        """Delay the answers to the next `count` POSTs; the messages are still created."""
        with self._lock:
            self._hangs += [seconds] * count

    def script_outcome(self, to: str, statuses: list[str], error_code: int | None = None) -> None:
        """Set the status sequence (and error for failed/undelivered) of messages sent to `to`."""
        with self._lock:
            self._outcomes[to] = (list(statuses), error_code)

    def opt_out(self, from_number: str, to: str) -> None:
        """Block the (sender, recipient) pair, as a STOP reply does: later sends fail with 21610."""
        with self._lock:
            self._opted_out.add((from_number, to))

    def opt_in(self, from_number: str, to: str) -> None:
        """Lift an opt-out, as a START reply does."""
        with self._lock:
            self._opted_out.discard((from_number, to))

    def block_region(self, prefix: str) -> None:
        """Refuse To numbers starting with `prefix` with 21408 (Geo Permissions)."""
        with self._lock:
            self._blocked_prefixes.append(prefix)

    # -- HTTP --------------------------------------------------------------------------------
    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        is_form = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        form = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True) if is_form else []
        try:
            status, payload = self._dispatch(request, form)
        except TwilioError as err:
            status, payload = err.status, err.body()
        self._record(request, form, status)
        await self._maybe_hang(request.method)
        if isinstance(payload, Response):  # media: a redirect, or the bytes on the media host
            await payload(scope, receive, send)
            return
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
        await JSONResponse(payload, status_code=status, headers=headers)(scope, receive, send)

    def _record(self, request: Request, form: list[tuple[str, str]], status: int) -> None:
        entry = {"method": request.method, "path": request.url.path, "status": status}
        entry |= {"query": dict(request.query_params), "form": dict(form), "form_items": form}
        with self._lock:
            self.requests.append(entry)

    async def _maybe_hang(self, method: str) -> None:
        with self._lock:
            seconds = self._hangs.pop(0) if method == "POST" and self._hangs else 0.0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            await asyncio.sleep(0.02)

    def _dispatch(self, request: Request, form: list[tuple[str, str]]) -> tuple[int, Any]:
        path, method = request.url.path, request.method
        if path.startswith(CDN_PREFIX):
            return self._media_host(path)
        match = ACCOUNT_PATH.match(path)
        if match and method == "POST" and match[2] == "/Messages.json":
            with self._lock:
                if self._failures:
                    raise self._failures.pop(0)
        account = self._authenticate(request.headers.get("authorization", ""), match)
        if match is None:
            raise TwilioError(404, 20404, f"The requested resource {path} was not found")
        if self.test_credentials and not (method == "POST" and match[2] == "/Messages.json"):
            raise TwilioError(403, 20008)  # test credentials only reach a few POST resources
        if match[2] == ".json":
            self._only(method, "GET")
            return 200, self._account_resource(account)
        if match[2] == "/Messages.json":
            if self._only(method, "GET", "POST") == "POST":
                return 201, self._create(account, form)
            return 200, self._list(account, request)
        if message := MESSAGE_PATH.match(match[2]):
            self._only(method, "GET")
            return 200, self._fetch(account, message[1])
        if self.media.owns(match[2]):
            self._only(method, "GET")
            return self._medium(account, match[2], path)
        raise TwilioError(404, 20404, f"The requested resource {path} was not found")

    def _medium(self, account: str, subpath: str, path: str) -> tuple[int, Any]:
        """A media or recording resource: 307 to a one-use URL on the media host (§1.1)."""
        found = self.media.find(account, subpath)
        if found is None:
            raise TwilioError(404, 20404, f"The requested resource {path} was not found")
        return 307, RedirectResponse(f"{self.base_url}{self.media.issue(found)}", 307)

    def _media_host(self, path: str) -> tuple[int, Any]:
        found = self.media.redeem(path)
        if found is None:  # an expired or reused signed URL
            return 403, Response(b"AccessDenied", 403, media_type="application/xml")
        return 200, Response(found.content, 200, media_type=found.content_type)

    def _authenticate(self, header: str, match: re.Match[str] | None) -> str:
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        known = user in self.accounts and secrets.compare_digest(self.accounts[user], password)
        if scheme.lower() != "basic" or not known or (match and match[1] != user):
            raise TwilioError(401, 20003)
        return user

    @staticmethod
    def _only(method: str, *allowed: str) -> str:
        if method not in allowed:
            raise TwilioError(405, 20004)
        return method

    def _account_resource(self, sid: str) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{sid}.json"
        return {"sid": sid, "friendly_name": "fake", "status": "active", "type": "Full", "uri": uri}

    # -- Messages ----------------------------------------------------------------------------
    def _create(self, account: str, form: list[tuple[str, str]]) -> dict[str, Any]:
        fields = dict(form)
        media = [value for key, value in form if key == "MediaUrl"]
        to, sender = fields.get("To", ""), fields.get("From", "")
        service, body = fields.get("MessagingServiceSid", ""), fields.get("Body", "")
        self._validate(account, to, sender, service, body, media, fields.get("StatusCallback"))
        message = self._new_message(account, to, sender, service, body, media)
        with self._lock:
            self.messages.append(message)
            self._by_sid[message["sid"]] = message
            answer = dict(message)  # before any status change, whatever callback_delay is
        if not self.test_credentials:
            self._spawn(message["sid"], to, fields.get("StatusCallback"))
        return answer

    def _validate(
        self, account: str, to: str, sender: str, service: str, body: str, media: list[str],
        callback: str | None,
    ) -> None:  # fmt: skip
        checks = [
            (not to, 21604),
            (not sender and not service, 21603),
            (not body and not media, 21602),
            (bool(service) and not SERVICE_SID.match(service), 21705),
            (not E164.match(to), 21211),
            (len(body) > MAX_BODY, 21617),
            (callback is not None and not _valid_callback(callback), 21609),
        ]
        if code := next((code for failed, code in checks if failed), None):
            raise TwilioError(400, code)
        if sender and (code := self._sender_error(account, sender)):
            raise TwilioError(400, code)
        if self.test_credentials and to in TEST_TO_ERRORS:
            raise TwilioError(400, TEST_TO_ERRORS[to])
        if any(to.startswith(prefix) for prefix in self._blocked_prefixes):
            raise TwilioError(400, 21408)
        senders = {sender} if sender else {service, *self.numbers.get(account, [])}
        if any((s, to) in self._opted_out for s in senders):
            raise TwilioError(400, 21610)

    def _sender_error(self, account: str, sender: str) -> int | None:
        if self.test_credentials and sender in TEST_FROM_ERRORS:
            return TEST_FROM_ERRORS[sender]
        owned = sender in self.numbers.get(account, [])
        return None if owned or (self.test_credentials and sender == TEST_FROM_OK) else 21606

    def _new_message(
        self, account: str, to: str, sender: str, service: str, body: str, media: list[str]
    ) -> dict[str, Any]:
        sid, now = new_sid("MM" if media else "SM"), rfc2822(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}"
        return {
            "account_sid": account, "api_version": API_VERSION, "body": body,
            "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": sender or None, "messaging_service_sid": service or None,
            "num_media": str(len(media)), "num_segments": "0" if service else str(segments(body)),
            "price": None, "price_unit": "USD", "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"}, "to": to, "uri": f"{uri}.json",
        }  # fmt: skip

    def _fetch(self, account: str, sid: str) -> dict[str, Any]:
        with self._lock:
            message = self._by_sid.get(sid)
            if message is None or message["account_sid"] != account:
                path = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json"
                raise TwilioError(404, 20404, f"The requested resource {path} was not found")
            return dict(message)

    def _list(self, account: str, request: Request) -> dict[str, Any]:
        query = request.query_params
        try:
            page, size = int(query.get("Page", 0)), min(int(query.get("PageSize", 50)), 1000)
        except ValueError as err:
            raise TwilioError(400, 20001, "Page and PageSize must be integers") from err
        with self._lock:
            found = [dict(m) for m in self._by_sid.values() if m["account_sid"] == account]
        for key, field in (("To", "to"), ("From", "from")):
            if key in query:
                found = [m for m in found if m[field] == query[key]]
        for op in ("", ">", "<"):
            if f"DateSent{op}" in query:
                found = [m for m in found if m["date_sent"] and _date_matches(
                    parsedate_to_datetime(m["date_sent"]), op, query[f"DateSent{op}"])]  # fmt: skip
        found.reverse()  # newest first, as Twilio lists
        rows = found[page * size : (page + 1) * size]
        base = f"/{API_VERSION}/Accounts/{account}/Messages.json"
        filters = [(k, v) for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")]

        def uri(n: int) -> str:
            return f"{base}?{urlencode([*filters, ('PageSize', size), ('Page', n)])}"

        more = (page + 1) * size < len(found)
        return {
            "messages": rows, "page": page, "page_size": size, "start": page * size,
            "end": page * size + max(len(rows) - 1, 0), "uri": uri(page), "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "previous_page_uri": uri(page - 1) if page else None,
        }  # fmt: skip

    # -- status progression and callbacks (§1.5) ---------------------------------------------
    def _spawn(self, sid: str, to: str, callback: str | None) -> None:
        with self._lock:
            statuses, error_code = self._outcomes.get(to, (list(DEFAULT_STATUSES), None))
        args = (sid, statuses, error_code, callback)
        thread = threading.Thread(target=self._progress, args=args, daemon=True)
        with self._lock:  # drop finished workers so a long-running fake does not grow
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _progress(
        self, sid: str, statuses: list[str], error_code: int | None, url: str | None
    ) -> None:
        for status in statuses:
            if self._stopping.wait(self.callback_delay):
                return
            params = self._apply_status(sid, status, error_code)
            if url:
                self._send_callback(url, params)

    def _apply_status(self, sid: str, status: str, error_code: int | None) -> dict[str, str]:
        failed = status in ("failed", "undelivered")
        code = (error_code or DEFAULT_ERROR[status]) if failed else None
        now = datetime.now(UTC)
        with self._lock:
            message = self._by_sid[sid]
            if RANK.get(status, 0) > RANK.get(message["status"], 0):
                message |= {"status": status, "error_code": code, "date_updated": rfc2822(now)}
                message["error_message"] = MESSAGES.get(code) if code else None
            if message["date_sent"] is None and RANK.get(status, 0) >= RANK["sending"]:
                message["date_sent"] = rfc2822(now)
            if message["from"] is None:  # a Messaging Service picks a sender from its pool
                message["from"] = next(iter(self.numbers.get(message["account_sid"], [])), None)
                message["num_segments"] = str(segments(message["body"]))
            return _callback_params(message, status, code, now)

    def _send_callback(self, url: str, params: dict[str, str]) -> None:
        token = self.accounts[params["AccountSid"]]
        entry: dict[str, Any] = {
            "url": url,
            "params": params,
            "signature": sign(token, url, params),
        }
        try:
            response = post_webhook(url, token, params, signature=entry["signature"], timeout=5)
            entry["status"] = response.status_code
        except httpx.HTTPError as err:
            entry |= {"status": None, "error": repr(err)}
        with self._lock:
            self.callbacks.append(entry)

    # -- inbound driver ----------------------------------------------------------------------
    def deliver_sms(
        self, url: str, from_: str, to: str, body: str, media: Iterable[tuple[str, str]] = (),
        *, fallback_url: str | None = None, timeout: float = 15.0,
    ) -> httpx.Response | None:  # fmt: skip
        """Deliver an inbound SMS/MMS to our number `to` like Twilio (§1.1-1.3, §1.8).

        Stores it as an inbound Message, applies STOP/START to the block list, posts it signed,
        and on a timeout, network error, non-2xx or non-TwiML answer calls `fallback_url` once.
        Returns the accepted response, or None when every URL failed.
        """
        account = next((sid for sid, owned in self.numbers.items() if to in owned), None)
        if account is None:
            raise ValueError(f"{to} is not a number of any fake account")
        params = sms_params(account, from_, to, body, media)
        self._store_inbound(params)
        keyword = body.strip().upper()
        if keyword in STOP_WORDS | START_WORDS:
            (self.opt_out if keyword in STOP_WORDS else self.opt_in)(to, from_)
        for target in (url, fallback_url):
            if target is None:
                continue
            entry: dict[str, Any] = {"url": target, "params": params}
            try:
                response = post_webhook(target, self.accounts[account], params, timeout=timeout)
                entry |= {"status": response.status_code, "accepted": _is_twiml(response)}
            except httpx.HTTPError as err:
                response, entry = (
                    None,
                    entry | {"status": None, "accepted": False, "error": repr(err)},
                )
            with self._lock:
                self.webhooks.append(entry)
            if entry["accepted"]:
                return response
        return None

    def call(
        self, url: str, from_: str, to: str, *, speech: str | None = None,
        digits: str | None = None, record_seconds: int | None = None,
        transcription: str | None = None, hangup: bool = False,
        status_callback: str | None = None, hold_transcription: bool = False,
    ) -> CallResult:  # fmt: skip
        """Place an inbound call from `from_` to our number `to` and follow its TwiML (§1.9).

        The caller says `speech` (or keys `digits`) at the first <Gather>, leaves a voicemail
        of `record_seconds` at a <Record> (none: silence), or hangs up during the first
        <Gather>. After the call: the call status callback (when `status_callback` is set,
        as the number's console setting would), the recordingStatusCallback, and the
        transcribeCallback for transcribed recordings of 2-120 s with `transcription` as text.
        Twilio transcribes for a while: `hold_transcription` keeps that callback in
        `result.pending` until `deliver_pending(result)`.
        """
        account = self._account_of(to)
        caller = _Caller(speech, digits, record_seconds, transcription, hangup)
        params = voice_params(account, from_, to)
        voice_call = _VoiceCall(self.accounts[account], params, caller, self.media)
        voice_call.run(url)
        voice_call.finish(status_callback, hold_transcription)
        return voice_call.result

    def deliver_pending(self, result: CallResult) -> list[httpx.Response | None]:
        """Post the callbacks a call held back (the transcription), signed as ever."""
        pending, result.pending = result.pending, []
        token = self.accounts[pending[0][1]["AccountSid"]] if pending else ""
        return [_VoiceCall.post(token, url, params, result) for url, params in pending]

    def missed_call(
        self, status_callback: str, from_: str, to: str, status: str = "no-answer"
    ) -> httpx.Response:
        """A call that never reached TwiML (busy, no-answer, canceled, failed): its status
        callback only, signed like every webhook (§1.9)."""
        account = self._account_of(to)
        params = voice_params(account, from_, to, call_status=status) | {"CallDuration": "0"}
        return post_webhook(status_callback, self.accounts[account], params)

    def _account_of(self, number: str) -> str:
        account = next((sid for sid, owned in self.numbers.items() if number in owned), None)
        if account is None:
            raise ValueError(f"{number} is not a number of any fake account")
        return account

    def _store_inbound(self, params: dict[str, str]) -> None:
        now = rfc2822(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{params['AccountSid']}/Messages/{params['MessageSid']}"
        message = {
            "account_sid": params["AccountSid"], "api_version": API_VERSION, "body": params["Body"],
            "date_created": now, "date_sent": now, "date_updated": now, "direction": "inbound",
            "error_code": None, "error_message": None, "from": params["From"],
            "messaging_service_sid": None, "num_media": params["NumMedia"],
            "num_segments": params["NumSegments"], "price": None, "price_unit": "USD",
            "sid": params["MessageSid"], "status": "received",
            "subresource_uris": {"media": f"{uri}/Media.json"}, "to": params["To"],
            "uri": f"{uri}.json",
        }  # fmt: skip
        with self._lock:
            self.inbound.append(message)
            self._by_sid[message["sid"]] = message


@dataclasses.dataclass
class CallResult:
    """What a fake call did.

    `said`: (language, text) of every <Say> heard; `requests`: url, params and status of every
    webhook posted; `gathered`/`recorded`: the attributes of each <Gather>/<Record> met;
    `errors`: Twilio's codes (11200 HTTP failure, 12100 bad TwiML, 13617 not transcribed).
    """

    call_sid: str
    said: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    requests: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    gathered: list[dict[str, str]] = dataclasses.field(default_factory=list)
    recorded: list[dict[str, str]] = dataclasses.field(default_factory=list)
    recording_sid: str | None = None
    errors: list[int] = dataclasses.field(default_factory=list)
    pending: list[tuple[str, dict[str, str]]] = dataclasses.field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [text for _language, text in self.said]

    def posted(self, path: str) -> list[dict[str, Any]]:
        """The webhook requests whose URL path ends with `path`."""
        return [r for r in self.requests if urlsplit(r["url"]).path.endswith(path)]


@dataclasses.dataclass
class _Caller:
    speech: str | None
    digits: str | None
    record_seconds: int | None
    transcription: str | None
    hangup: bool


class _VoiceCall:
    """Twilio's side of one call: fetch TwiML, execute its verbs, post callbacks (§1.9)."""

    MAX_DOCUMENTS = 12

    def __init__(
        self, token: str, params: dict[str, str], caller: _Caller, media: MediaStore | None = None
    ) -> None:
        self.token, self.params, self.caller = token, params, caller
        self.media = media or MediaStore()
        self.result = CallResult(params["CallSid"])
        self.after_call: list[tuple[str, dict[str, str]]] = []
        self.seconds = 0

    def run(self, url: str) -> None:
        target: tuple[str, dict[str, str]] | None = (url, {})
        for _ in range(self.MAX_DOCUMENTS):
            if target is None:
                return
            document_url, extra = target
            root = self._fetch(document_url, extra)
            self.params["CallStatus"] = "in-progress"
            target = None if root is None else self._execute(root, document_url)

    def finish(self, status_callback: str | None, hold_transcription: bool) -> None:
        """The call is over: status callback, then recording and transcription callbacks."""
        self.params["CallStatus"] = "completed"
        if status_callback:
            params = self.params | {"CallDuration": str(self.seconds)}
            self.post(self.token, status_callback, params, self.result)
        for url, extra in self.after_call:
            if "RecordingSource" in extra:  # recordingStatusCallback: no From/To (§1.9)
                params = {k: self.params[k] for k in ("AccountSid", "CallSid")} | extra
            else:
                params = self.params | extra
            if hold_transcription and "TranscriptionSid" in extra:
                self.result.pending.append((url, params))
            else:
                self.post(self.token, url, params, self.result)

    def _fetch(self, url: str, extra: dict[str, str]) -> Any:
        response = self.post(self.token, url, {**self.params, **extra}, self.result)
        if response is None or not response.is_success:
            self.result.errors.append(11200)  # HTTP retrieval failure: the call ends
            return None
        try:
            root = ElementTree.fromstring(response.content)
        except Exception:  # noqa: BLE001 - defusedxml refuses entities; anything else is 12100
            root = None
        if root is None or root.tag != "Response":
            self.result.errors.append(12100)  # document parse failure
            return None
        return root

    @staticmethod
    def post(
        token: str, url: str, params: dict[str, str], result: CallResult
    ) -> httpx.Response | None:
        """POST one signed call webhook and note it in `result.requests`."""
        entry: dict[str, Any] = {"url": url, "params": params}
        response: httpx.Response | None = None
        try:
            response = post_webhook(url, token, params)
            entry["status"] = response.status_code
        except httpx.HTTPError as err:
            entry |= {"status": None, "error": repr(err)}
        result.requests.append(entry)
        return response

    def _execute(self, root: Any, url: str) -> tuple[str, dict[str, str]] | None:
        """Run the verbs in order; return the next document to fetch, or None at hang-up."""
        for verb in root:
            if verb.tag == "Say":
                self._say(verb)
            elif verb.tag == "Gather":
                outcome = self._gather(verb, url)
                if outcome != "next":
                    return outcome  # type: ignore[return-value]
            elif verb.tag == "Record":
                target = self._record(verb, url)
                if target is not None:
                    return target
            elif verb.tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), {}
            elif verb.tag in ("Hangup", "Reject"):
                return None
        return None

    def _say(self, verb: Any) -> None:
        self.result.said.append((verb.get("language", "en-US"), verb.text or ""))
        self.seconds += 3

    def _gather(self, verb: Any, url: str) -> Any:
        self.result.gathered.append(dict(verb.attrib))
        for nested in verb:
            if nested.tag == "Say":
                self._say(nested)
        if self.caller.hangup:
            return None  # the caller hangs up during <Gather>: no action request
        inputs = verb.get("input", "dtmf").split()
        heard: dict[str, str] = {}
        if "speech" in inputs and self.caller.speech:
            heard = {"SpeechResult": self.caller.speech, "Confidence": "0.9126"}
            self.caller.speech = None
        elif "dtmf" in inputs and self.caller.digits:
            heard, self.caller.digits = {"Digits": self.caller.digits}, None
        if heard or verb.get("actionOnEmptyResult") == "true":
            return urljoin(url, verb.get("action", url)), heard
        return "next"  # nothing heard: on to the next verb

    def _record(self, verb: Any, url: str) -> tuple[str, dict[str, str]] | None:
        self.result.recorded.append(dict(verb.attrib))
        if not self.caller.record_seconds:
            return None  # an empty recording: no action request, the next verb runs
        duration = min(self.caller.record_seconds, int(verb.get("maxLength", "3600")))
        self.seconds += duration
        sid = self.result.recording_sid = new_sid("RE")
        account = self.params["AccountSid"]
        recording_url = self.media.add_recording(account, sid, silence_wav(duration))
        recording = {"RecordingSid": sid, "RecordingUrl": recording_url,
                     "RecordingDuration": str(duration)}  # fmt: skip
        if callback := verb.get("recordingStatusCallback"):
            status = {"RecordingStatus": "completed", "RecordingChannels": "1",
                      "RecordingSource": "RecordVerb", **recording}  # fmt: skip
            self.after_call.append((urljoin(url, callback), status))
        self._transcription(verb, url, recording, duration)
        finished = {"Digits": "#"} if "#" in verb.get("finishOnKey", "1234567890*#") else {}
        return urljoin(url, verb.get("action", url)), {**recording, **finished}

    def _transcription(self, verb: Any, url: str, recording: dict[str, str], duration: int) -> None:
        if verb.get("transcribe") != "true":
            return
        if not 2 < duration < 120:
            self.result.errors.append(13617)  # too short or too long: no transcription
            return
        if callback := verb.get("transcribeCallback"):
            text = self.caller.transcription or ""
            sid = new_sid("TR")
            self.after_call.append((urljoin(url, callback), {
                "TranscriptionSid": sid, "TranscriptionText": text,
                "TranscriptionStatus": "completed" if text else "failed",
                "TranscriptionUrl": f"https://api.twilio.com/{API_VERSION}/Transcriptions/{sid}",
                **recording,
            }))  # fmt: skip


def _valid_callback(url: str) -> bool:
    """StatusCallback must be an absolute http(s) URL without underscores in the host (21609)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "_" not in parts.netloc


def _callback_params(
    message: dict[str, Any], status: str, code: int | None, now: datetime
) -> dict[str, str]:
    params = {"AccountSid": message["account_sid"], "From": message["from"] or ""}
    params |= {"To": message["to"], "MessageSid": message["sid"], "SmsSid": message["sid"]}
    params |= {"SmsStatus": status, "MessageStatus": status, "ApiVersion": API_VERSION}
    if message["messaging_service_sid"]:
        params["MessagingServiceSid"] = message["messaging_service_sid"]
    if code is not None:
        params["ErrorCode"] = str(code)
    if status in ("delivered", "undelivered"):
        params["RawDlrDoneDate"] = now.strftime("%y%m%d%H%M")
    return params


def main(argv: list[str] | None = None) -> None:
    """Run the fake in the foreground: python -m fakes.twilio --account AC…:token --number +1…."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--account", action="append", default=[], help="SID:TOKEN (repeatable)")
    parser.add_argument("--number", action="append", default=[], help="[SID:]+E164 (repeatable)")
    parser.add_argument("--test-credentials", action="store_true")
    parser.add_argument("--callback-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    accounts = dict(item.split(":", 1) for item in args.account)
    numbers: dict[str, list[str]] = {}
    for item in args.number:
        sid, _, number = item.rpartition(":")
        numbers.setdefault(sid or next(iter(accounts), ""), []).append(number)
    fake = FakeTwilio(
        accounts, numbers, args.host, args.port, args.test_credentials, args.callback_delay
    )
    with fake, contextlib.suppress(KeyboardInterrupt):
        sys.stderr.write(f"fake Twilio listening on {fake.base_url}\n")
        threading.Event().wait()


if __name__ == "__main__":
    main()
