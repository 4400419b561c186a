"""Fake Weibo fan service: the private-message reply API and a signed push driver (§3, §5.3)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fakes._server import BackgroundServer

REPLY_PATH = "/2/messages/reply.json"
UID_PATH = "/2/account/get_uid.json"
MEDIA_PATH = "/2/mss/msget"  # private-message media by fid (endpoint unconfirmed, protocols 3.2)
DEFAULT_UID = 1902538057
BEIJING = timezone(timedelta(hours=8))
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_TEXT = 300
WINDOW_SECONDS = 48 * 3600
REPLY_TYPES = ("text", "articles", "position")
# Contacts that open the reply window (protocols 3.3); a mention allows one reply only.
OPENING_EVENTS = ("follow", "subscribe", "scan", "scan_follow", "click", "view")
DEFAULT_TEXT = {
    "position": "发送了一个位置", "voice": "发了一个语音消息", "image": "发了一张图片",
    "event": "事件消息", "follow": "关注事件消息", "unfollow": "取消关注事件消息",
}  # fmt: skip
ERRORS = {
    10001: (500, "system error"),
    10002: (503, "service unavailable"),
    10016: (400, "miss required parameter ({}), see doc for more info"),
    10017: (400, "parameter ({})'s value invalid, see doc for more info"),
    10020: (404, "request api not found"),
    10021: (405, "HTTP method is not suported for this request"),
    10022: (403, "IP requests out of rate limit"),
    10023: (403, "user requests out of rate limit"),
    10024: (403, "user requests for (messages/reply) out of rate limit"),
    20003: (400, "user does not exists"),
    20016: (400, "out of limit"),  # no reply quota: window over or mention used (unconfirmed)
    20603: (400, "receiver unfollowed, no rights to reply"),  # (unconfirmed code)
    21301: (401, "auth faild"),
    21327: (401, "expired_token"),
    21332: (401, "invalid_access_token"),
}


class WeiboError(Exception):
    """A Weibo API error: `{request, error_code, error}` with its HTTP status."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.status, template = ERRORS.get(code, (400, "error"))
        self.error = template.format(detail) if "{}" in template else template

    def body(self, path: str) -> dict[str, Any]:
        # error_code is a string in the wiki's examples (protocols 3.4).
        return {"request": path, "error_code": str(self.code), "error": self.error}


def signature(app_secret: str, timestamp: str, nonce: str) -> str:
    """sha1 of the sorted [secret, timestamp, nonce] (§3.1)."""
    return hashlib.sha1("".join(sorted([app_secret, timestamp, nonce])).encode()).hexdigest()


def weibo_date(moment: datetime) -> str:
    """`Mon Jul 16 18:09:20 +0800 2012`, in Beijing time, with English names whatever the locale."""
    local = moment.astimezone(BEIJING)
    day, month = DAYS[local.weekday()], MONTHS[local.month - 1]
    return f"{day} {month} {local:%d %H:%M:%S} +0800 {local.year}"


def decode_data(value: str) -> dict[str, Any]:
    """`data` after form decoding: JSON (one URL-encoding level) or URL-encoded JSON (two)."""
    for candidate in (value, unquote(value)):
        with contextlib.suppress(json.JSONDecodeError):
            decoded = json.loads(candidate)
            if isinstance(decoded, dict):
                return decoded
    raise WeiboError(10017, "data")


@dataclass
class PushResult:
    """One push as Weibo made it: the signed query, the body bytes and every attempt."""

    url: str
    query: dict[str, str]
    body: bytes
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return bool(self.attempts) and self.attempts[-1]["accepted"]

    @property
    def status(self) -> int | None:
        return self.attempts[-1]["status"] if self.attempts else None


@dataclass
class _Contact:
    at: float
    kind: str  # "message", "mention" or "unfollow"
    replies: int = 0


class FakeWeibo:
    """A local m.api.weibo.com plus the push side of the fan service platform; see §5.3.

    `tokens` maps access tokens to the uid they act for. Attributes (guarded by a lock):
    `sent` replies accepted, `requests` every API call, `pushes` every PushResult.
    `offset` shifts the fake's clock (seconds) to test the reply window.
    """

    def __init__(
        self, app_secret: str, tokens: dict[str, int] | None = None, *, host: str = "127.0.0.1",
        port: int = 0, window_seconds: float = WINDOW_SECONDS, push_timeout: float = 5.0,
        push_attempts: int = 3,
    ) -> None:  # fmt: skip
        self.app_secret = app_secret
        self.tokens = dict(tokens or {})
        self.host, self.port, self.base_url = host, port, ""
        self.window_seconds, self.offset = window_seconds, 0.0
        self.push_timeout, self.push_attempts = push_timeout, push_attempts
        self.sent: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.pushes: list[PushResult] = []
        self._contacts: dict[tuple[int, int], _Contact] = {}
        self._expired: set[str] = set()
        self._failures: list[int] = []
        self._hangs: list[float] = []
        self._raw_answers: list[tuple[int, bytes]] = []
        self.media: dict[str, tuple[bytes, str]] = {}  # fid: content, content type
        self._lock = threading.RLock()
        self._http: BackgroundServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeWeibo:
        self._http = BackgroundServer(self._app, "fake Weibo")
        self.port = self._http.start(self.host, self.port)
        self.base_url = f"http://{self.host}:{self.port}"
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    def __enter__(self) -> FakeWeibo:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def now(self) -> float:
        return time.time() + self.offset

    # -- scripting ---------------------------------------------------------------------------
    def fail_next(self, code: int, count: int = 1) -> None:
        """Answer the next `count` API calls with this error (10001, 10023, 21327 …)."""
        with self._lock:
            self._failures += [code] * count

    def hang_next(self, seconds: float, count: int = 1) -> None:
        """Delay the next `count` answers; the calls still take effect."""
        with self._lock:
            self._hangs += [seconds] * count

    def answer_next(self, status: int, body: bytes) -> None:
        """Answer the next API call with these raw bytes (a proxy's error page, cut JSON …)."""
        with self._lock:
            self._raw_answers.append((status, body))

    def expire_token(self, token: str) -> None:
        """From now on this token gets 21327 expired_token."""
        with self._lock:
            self._expired.add(token)

    def contact(
        self, sender_id: int, kind: str = "message", receiver_id: int | None = None
    ) -> None:
        """Record that a customer wrote (or mentioned, or unfollowed): the window of §3.3."""
        with self._lock:
            key = (receiver_id or self._default_uid(), int(sender_id))
            self._contacts[key] = _Contact(self.now(), kind)

    # -- the API -----------------------------------------------------------------------------
    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw = await request.body()
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        path = request.url.path
        try:
            status, payload = 200, self._dispatch(request, form)
        except WeiboError as err:
            status, payload = err.status, err.body(path)
        with self._lock:
            query = dict(request.query_params)
            self.requests.append({"method": request.method, "path": path, "form": form,
                                  "query": query, "status": status})  # fmt: skip
            hang = self._hangs.pop(0) if self._hangs else 0.0
            raw_answer = self._raw_answers.pop(0) if self._raw_answers else None
        await asyncio.sleep(hang)
        if raw_answer is not None:
            answer: Response = Response(raw_answer[1], status_code=raw_answer[0])
        elif isinstance(payload, Response):  # media bytes
            answer = payload
        else:
            answer = JSONResponse(payload, status_code=status)
        await answer(scope, receive, send)

    def _dispatch(self, request: Request, form: dict[str, str]) -> dict[str, Any] | Response:
        path, method = request.url.path, request.method
        if path == MEDIA_PATH:
            return self._media(request, form)
        if path not in (REPLY_PATH, UID_PATH):
            raise WeiboError(10020)
        if method != ("POST" if path == REPLY_PATH else "GET"):
            raise WeiboError(10021)
        uid = self._authenticate(request, form)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise WeiboError(failure)
        if path == UID_PATH:
            return {"uid": uid}
        return self._reply(uid, form)

    def add_media(self, content: bytes, content_type: str) -> str:
        """Keep a customer's picture or voice; return its fid (what a push calls `tovfid`)."""
        fid = str(10**9 + secrets.randbelow(9 * 10**9))
        with self._lock:
            self.media[fid] = (content, content_type)
        return fid

    def _media(self, request: Request, form: dict[str, str]) -> Response:
        if request.method != "GET":
            raise WeiboError(10021)
        self._authenticate(request, form)
        fid = request.query_params.get("fid") or ""
        if not fid:
            raise WeiboError(10016, "fid")
        with self._lock:
            found = self.media.get(fid)
        if found is None:
            raise WeiboError(10017, "fid")
        return Response(found[0], 200, media_type=found[1])

    def _authenticate(self, request: Request, form: dict[str, str]) -> int:
        """The token from the form, the query or an `Authorization: OAuth2 …` header."""
        header = request.headers.get("authorization", "")
        token = form.get("access_token") or request.query_params.get("access_token")
        token = token or (header[7:].strip() if header.startswith("OAuth2 ") else "")
        if not token:
            raise WeiboError(21301)
        with self._lock:
            if token in self._expired:
                raise WeiboError(21327)
            if token not in self.tokens:
                raise WeiboError(21332)
            return self.tokens[token]

    def _reply(self, uid: int, form: dict[str, str]) -> dict[str, Any]:
        for name in ("type", "data", "receiver_id"):
            if not form.get(name):
                raise WeiboError(10016, name)
        kind, receiver = form["type"], form["receiver_id"]
        if kind not in REPLY_TYPES:
            raise WeiboError(10017, "type")
        if not receiver.isdigit() or form.get("save_sender_box", "1") not in ("0", "1"):
            raise WeiboError(10017, "receiver_id" if not receiver.isdigit() else "save_sender_box")
        data = decode_data(form["data"])
        text = data.get("text")
        if kind == "text" and (not isinstance(text, str) or not text or len(text) >= MAX_TEXT):
            raise WeiboError(10017, "text")
        self._use_quota(uid, int(receiver))
        return self._record(uid, int(receiver), kind, data, form)

    def _use_quota(self, uid: int, receiver: int) -> None:
        with self._lock:
            contact = self._contacts.get((uid, receiver))
            if contact is not None and contact.kind == "unfollow":
                raise WeiboError(20603)
            if contact is None or self.now() - contact.at > self.window_seconds:
                raise WeiboError(20016)
            if contact.kind == "mention" and contact.replies >= 1:
                raise WeiboError(20016)
            contact.replies += 1

    def _record(
        self, uid: int, receiver: int, kind: str, data: dict[str, Any], form: dict[str, str]
    ) -> dict[str, Any]:
        message_id = 4_000_000_000_000_000 + secrets.randbelow(10**15)
        answer = {
            "id": message_id, "idstr": str(message_id),
            "created_at": weibo_date(datetime.now(BEIJING)), "sender_id": uid,
            "recipient_id": receiver, "type": kind, "text": data.get("text", ""),
        }  # fmt: skip
        with self._lock:
            self.sent.append({**answer, "data": data, "form": form})
        return answer

    def _default_uid(self) -> int:
        return next(iter(self.tokens.values()), DEFAULT_UID)

    # -- the push driver ---------------------------------------------------------------------
    def verify_url(self, url: str, echostr: str | None = None) -> bool:
        """Weibo's URL check: a signed GET whose answer must be exactly `echostr`."""
        echostr = echostr or secrets.token_urlsafe(8)
        query = {**self._signed_query(), "echostr": echostr}
        response = httpx.get(url, params=query, timeout=self.push_timeout, trust_env=False)
        return response.status_code == 200 and response.text == echostr

    def push(
        self, url: str, payload: dict[str, Any], *, timestamp: str | None = None,
        signature: str | None = None,
    ) -> PushResult:  # fmt: skip
        """POST a JSON push signed with a millisecond timestamp; retry like Weibo (§3.2)."""
        query = self._signed_query(timestamp)
        if signature is not None:
            query["signature"] = signature
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        result = PushResult(url, query, body)
        self._note_contact(payload)
        with self._lock:
            self.pushes.append(result)
        return self.replay(result, self.push_attempts)

    def replay(self, result: PushResult, attempts: int = 1) -> PushResult:
        """Send the byte-identical request again (Weibo did not see our answer), up to
        `attempts` times until one is accepted: a 2xx with an empty body or a passive reply."""
        target = f"{result.url}?{urlencode(result.query)}"
        headers = {"Content-Type": "application/json"}
        for _ in range(attempts):
            entry: dict[str, Any] = {"status": None, "accepted": False}
            try:
                response = httpx.post(
                    target, content=result.body, headers=headers, timeout=self.push_timeout,
                    trust_env=False,
                )  # fmt: skip
                entry |= {"status": response.status_code, "body": response.content}
                entry["accepted"] = response.is_success and _valid_answer(response.content)
            except httpx.HTTPError as err:
                entry["error"] = repr(err)
            result.attempts.append(entry)
            if entry["accepted"]:
                break
        return result

    def push_text(self, url: str, sender_id: int, text: str, **kw: Any) -> PushResult:
        """A text private message; `kw`: receiver_id, created_at, timestamp, signature."""
        return self.push_message(url, "text", sender_id, text, **kw)

    def push_event(
        self, url: str, sender_id: int, subtype: str, key: str | None = None, **kw: Any
    ) -> PushResult:
        """follow, unfollow, subscribe, unsubscribe, click (with `key`), scan, view …"""
        data: dict[str, Any] = {"subtype": subtype}
        if key is not None:
            data |= {"key": key, "ticket": secrets.token_hex(8)}
        return self.push_message(url, "event", sender_id, data=data, **kw)

    def push_message(
        self, url: str, kind: str, sender_id: int, text: str | None = None,
        data: dict[str, Any] | None = None, *, receiver_id: int | None = None,
        created_at: datetime | None = None, content: bytes | None = None, **signing: Any,
    ) -> PushResult:  # fmt: skip
        """Any push type with Weibo's default text and data (image and voice get media ids;
        with `content`, the media API then serves those bytes under the `tovfid`)."""
        if data is None and kind in ("image", "voice"):
            media_type = "image/jpeg" if kind == "image" else "audio/amr"
            tovfid = self.add_media(content, media_type) if content else secrets.randbelow(10**10)
            data = {"vfid": secrets.randbelow(10**10), "tovfid": int(tovfid)}
        subtype = (data or {}).get("subtype", "")
        text = text or DEFAULT_TEXT.get(subtype) or DEFAULT_TEXT.get(kind, "")
        body = self.payload(kind, sender_id, text, data or {}, receiver_id, created_at)
        return self.push(url, body, **signing)

    def payload(
        self, kind: str, sender_id: int, text: str, data: dict[str, Any],
        receiver_id: int | None = None, created_at: datetime | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A push body exactly as §3.2: int64 ids as JSON numbers, Weibo's date format."""
        moment = created_at or datetime.fromtimestamp(self.now(), BEIJING)
        return {
            "type": kind, "receiver_id": receiver_id or self._default_uid(),
            "sender_id": int(sender_id), "created_at": weibo_date(moment), "text": text,
            "data": data,
        }  # fmt: skip

    def _signed_query(self, timestamp: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(self.now() * 1000))
        nonce = str(secrets.randbelow(10**8))
        sig = signature(self.app_secret, timestamp, nonce)
        return {"signature": sig, "timestamp": timestamp, "nonce": nonce}

    def _note_contact(self, payload: dict[str, Any]) -> None:
        kind, subtype = payload["type"], payload["data"].get("subtype")
        if kind == "event" and subtype in ("unfollow", "unsubscribe"):
            kind = "unfollow"
        elif kind == "event" and subtype not in OPENING_EVENTS:
            return
        contact = kind if kind in ("mention", "unfollow") else "message"
        self.contact(payload["sender_id"], contact, payload["receiver_id"])


def _valid_answer(body: bytes) -> bool:
    """Weibo accepts an empty answer or a passive reply `{"result": true, …}` (§3.2)."""
    if not body.strip():
        return True
    try:
        answer = json.loads(body)
        return answer.get("result") is True and bool(decode_data(str(answer.get("data", ""))))
    except (ValueError, AttributeError, WeiboError):
        return False


def main(argv: list[str] | None = None) -> None:
    """Run the fake: python -m fakes.weibo --port 9300 --secret S --token TOKEN[:UID]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9300)
    parser.add_argument("--secret", required=True, help="the app secret that signs pushes")
    parser.add_argument("--token", action="append", default=[], help="TOKEN[:UID] (repeatable)")
    parser.add_argument("--window-hours", type=float, default=48)
    args = parser.parse_args(argv)
    tokens = {}
    for item in args.token:
        token, _, uid = item.partition(":")
        tokens[token] = int(uid or DEFAULT_UID)
    fake = FakeWeibo(
        args.secret, tokens, host=args.host, port=args.port,
        window_seconds=args.window_hours * 3600,
    )  # fmt: skip
    with fake, contextlib.suppress(KeyboardInterrupt):
        sys.stderr.write(f"fake Weibo listening on {fake.base_url}\n")
        threading.Event().wait()


if __name__ == "__main__":
    main()
