"""Fake WeChat: api.weixin.qq.com (tokens, service messages) and the push driver (§2, §5.2).

The API side checks what WeChat checks and answers as WeChat answers: HTTP 200 with
`{"errcode", "errmsg"}` for every error. The push driver signs and encrypts like WeChat (wechatpy's
WeChatCrypto, the crypto a real account uses), waits 5 s for an answer and re-posts the
byte-identical request when the answer is late or not one WeChat accepts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from defusedxml.ElementTree import fromstring
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from fakes._server import BackgroundServer

SERVICE_UNAVAILABLE = "该公众号暂时无法提供服务，请稍后再试"
TOKEN_PATH = "/cgi-bin/token"  # noqa: S105 - a path
STABLE_TOKEN_PATH = "/cgi-bin/stable_token"  # noqa: S105 - a path
CUSTOM_SEND_PATH = "/cgi-bin/message/custom/send"
MEDIA_GET_PATH = "/cgi-bin/media/get"
VIDEO_PREFIX = "/media-cdn/"  # where a video's video_url points (no token needed there)
MEDIA_LIFETIME = 3 * 86400  # temporary media: 3 days
TOKEN_LIFETIME = 7200
OVERLAP = 300  # an old token lives 5 min after a new one; stable tokens renew in their last 5 min
MESSAGE_GRANT = (48 * 3600, 5)  # a customer message: 5 replies within 48 h (§2.6)
EVENT_GRANT = (60, 3)  # follow, menu click, QR scan: 3 replies within a minute
GRANTING_EVENTS = frozenset({"subscribe", "CLICK", "SCAN", "scancode_push", "scancode_waitmsg"})
FORCE_SPACING, FORCE_PER_DAY = 30, 20
MESSAGE_TYPES = frozenset(
    {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu",
     "wxcard", "miniprogrampage"}
)  # fmt: skip
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40125: "invalid appsecret",
    40164: "invalid ip, not in whitelist",
    41001: "access_token missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}


class WeChatError(Exception):
    """An API error as WeChat sends it: HTTP 200, errcode and errmsg (with a request id)."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")

    def body(self) -> dict[str, Any]:
        rid = f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(6)}"
        return {"errcode": self.errcode, "errmsg": f"{self.errmsg} rid: {rid}"}


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted and concatenated (§2.1, §2.2)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def encrypt(
    token: str, aes_key: str, app_id: str, text: str, nonce: str, timestamp: str,
    random16: str | None = None,
) -> tuple[str, str]:  # fmt: skip
    """(Encrypt, MsgSignature) of `text` as WeChatCrypto makes them; `random16` fixes the pad."""
    crypto = WeChatCrypto(token, aes_key, app_id)
    if random16 is None:
        envelope = read_xml(crypto.encrypt_message(text, nonce, timestamp).encode())
        return envelope["Encrypt"], envelope["MsgSignature"]

    class _Fixed(PrpCrypto):  # the official vectors fix the 16 random bytes
        def get_random_string(self) -> str:
            return random16

    sealed = _Fixed(crypto.key).encrypt(text, app_id).decode()
    return sealed, sign(token, timestamp, nonce, sealed)


def read_xml(data: bytes) -> dict[str, str]:
    """The children of an `<xml>` document (no DTD, no entities)."""
    root = fromstring(data, forbid_dtd=True)
    return {child.tag: child.text or "" for child in root}


def xml_of(fields: dict[str, str | int | float]) -> str:
    """A push body as WeChat writes it: strings in CDATA, numbers bare."""
    parts = []
    for name, value in fields.items():
        text = str(value) if isinstance(value, int | float) else f"<![CDATA[{value}]]>"
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class IssuedToken:
    app_id: str
    source: str  # "token" or "stable"
    issued_at: float
    expires_at: float
    revoked_at: float | None = None


@dataclass
class Follower:
    subscribed: bool = True
    window_until: float = 0.0
    quota: int = 0


@dataclass
class Push:
    """One push as the driver sent it (every attempt posts these exact bytes)."""

    url: str
    body: bytes
    mode: str
    openid: str | None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    accepted: bool = False


class FakeWeChat:
    """A local api.weixin.qq.com for one Official Account, plus WeChat's push driver (§5.2).

    Attributes (append-only, guarded by a lock):
        requests: every API call: method, path, query, body (raw bytes), headers, errcode.
        sent: accepted customer-service messages: touser, msgtype, content, raw, token, at.
        pushes: every push (Push), with each attempt's status, answer and timing.
        customer_notices: what customers saw when every attempt failed (SERVICE_UNAVAILABLE).
        passive_replies: reply XML we answered within the deadline (decrypted in safe mode).

    `clock` (default time.time) drives token expiry, send windows and push timestamps;
    `advance(seconds)` moves it.
    """

    def __init__(
        self, app_id: str, secret: str, *, token: str, encoding_aes_key: str | None = None,
        original_id: str = "gh_97417a04a28d", host: str = "127.0.0.1", port: int = 0,
        clock: Callable[[], float] | None = None, deadline: float = 5.0, retries: int = 3,
        ip_whitelist: set[str] | None = None, token_daily_quota: int = 2000,
    ) -> None:  # fmt: skip
        self.app_id, self.secret, self.token = app_id, secret, token
        self.encoding_aes_key, self.original_id = encoding_aes_key, original_id
        self.host, self.port, self.base_url = host, port, ""
        self.deadline, self.retries = deadline, retries
        self.ip_whitelist, self.token_daily_quota = ip_whitelist, token_daily_quota
        self._clock, self._offset = clock or time.time, 0.0
        self.requests: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.pushes: list[Push] = []
        self.customer_notices: list[dict[str, str]] = []
        self.passive_replies: list[dict[str, str]] = []
        self.followers: dict[str, Follower] = {}
        self._tokens: dict[str, IssuedToken] = {}
        self._current: dict[str, str] = {}
        self._daily: dict[tuple[str, int], int] = {}
        self._last_force = -1e18
        self._scripts: dict[str, list[tuple[str, Any]]] = {}
        self.media: dict[str, tuple[bytes, str, float]] = {}  # media_id: content, type, created
        self._videos: dict[str, bytes] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._http: BackgroundServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeWeChat:
        """Serve in a daemon thread; return once the port accepts connections."""
        self._http = BackgroundServer(self._app, "fake WeChat")
        self.port = self._http.start(self.host, self.port)
        self.base_url = f"http://{self.host}:{self.port}"
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._http is not None:  # kept-alive client connections need not be waited for
            self._http.stop(force=True)

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- clock and scripting -----------------------------------------------------------------
    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (tokens expire, send windows close)."""
        with self._lock:
            self._offset += seconds

    def fail_next(self, errcode: int, count: int = 1, path: str = CUSTOM_SEND_PATH) -> None:
        """Answer the next `count` calls to `path` with this errcode (e.g. -1, 45011, 40001)."""
        self._script(path, ("errcode", errcode), count)

    def http_error_next(self, status: int, count: int = 1, path: str = CUSTOM_SEND_PATH) -> None:
        """Answer the next calls with a bare HTTP error page, as a broken gateway would."""
        self._script(path, ("http", status), count)

    def garble_next(self, count: int = 1, path: str = CUSTOM_SEND_PATH) -> None:
        """Answer the next calls with HTTP 200 and a body that is not JSON."""
        self._script(path, ("garble", None), count)

    def hang_next(self, seconds: float, count: int = 1, path: str = CUSTOM_SEND_PATH) -> None:
        """Process the next calls, then hold the answer back `seconds` (the client times out)."""
        self._script(path, ("hang", seconds), count)

    def _script(self, path: str, action: tuple[str, Any], count: int) -> None:
        with self._lock:
            self._scripts.setdefault(path, []).extend([action] * count)

    def revoke_tokens(self) -> None:
        """Invalidate every token now (as another party's force refresh does): 40001."""
        with self._lock:
            for issued in self._tokens.values():
                issued.revoked_at = self.now()

    def customer_writes(self, openid: str) -> None:
        """The customer wrote: opens the 48-hour window (5 replies), without pushing anything."""
        self._grant(openid, MESSAGE_GRANT)

    def customer_unfollows(self, openid: str) -> None:
        """The customer unfollowed: later sends fail with 45015, without pushing anything."""
        with self._lock:
            self.followers.setdefault(openid, Follower()).subscribed = False

    def add_follower(self, openid: str) -> None:
        """A follower who has not written yet (known openid, closed send window)."""
        with self._lock:
            self.followers.setdefault(openid, Follower())

    def token_calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"] in (TOKEN_PATH, STABLE_TOKEN_PATH)]

    def valid_token(self, token: str) -> bool:
        """Whether the API would accept `token` right now."""
        try:
            self._authorise(token)
        except WeChatError:
            return False
        return True

    # -- HTTP --------------------------------------------------------------------------------
    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        with self._lock:
            queue = self._scripts.get(request.url.path) or []
            action = queue.pop(0) if queue else ("", None)
        status, payload = self._answer(request, raw, action)
        self._record(request, raw, status, payload)
        if action[0] == "hang":
            await self._hang(action[1])
        if action[0] == "http":
            response: Response = Response(
                "<html>bad gateway</html>", action[1], media_type="text/html"
            )
        elif action[0] == "garble":
            response = Response("<html>upstream error</html>", 200, media_type="text/html")
        elif isinstance(payload, Response):  # media bytes
            response = payload
        else:
            response = JSONResponse(payload, status_code=status)
        await response(scope, receive, send)

    def _answer(self, request: Request, raw: bytes, action: tuple[str, Any]) -> tuple[int, Any]:
        routes = {
            TOKEN_PATH: ("GET", self._token),
            STABLE_TOKEN_PATH: ("POST", self._stable_token),
            CUSTOM_SEND_PATH: ("POST", self._custom_send),
            MEDIA_GET_PATH: ("GET", self._media_get),
        }
        route = routes.get(request.url.path)
        if action[0] in ("http", "garble"):  # a broken gateway: WeChat never saw the call
            return (action[1] if action[0] == "http" else 200), {}
        if request.url.path.startswith(VIDEO_PREFIX):
            return self._video(request.url.path)
        if route is None:
            return 404, {"errcode": 404, "errmsg": "not found"}
        try:
            if action[0] == "errcode":
                raise WeChatError(action[1])
            if request.method != route[0]:
                raise WeChatError(43001 if route[0] == "GET" else 43002)
            return 200, route[1](request, raw)
        except WeChatError as err:
            return 200, err.body()

    def _record(self, request: Request, raw: bytes, status: int, payload: Any) -> None:
        entry = {
            "method": request.method, "path": request.url.path,
            "query": dict(request.query_params), "body": raw, "headers": dict(request.headers),
            "status": status,
            "errcode": payload.get("errcode", 0) if isinstance(payload, dict) else None,
        }  # fmt: skip
        with self._lock:
            self.requests.append(entry)

    async def _hang(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            await asyncio.sleep(0.02)

    # -- tokens (§2.5) -----------------------------------------------------------------------
    def _token(self, request: Request, raw: bytes) -> dict[str, Any]:
        query = request.query_params
        if query.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        self._credentials(query.get("appid"), query.get("secret"), request)
        with self._lock:
            self._count_daily("token", self.token_daily_quota)
            previous = self._tokens.get(self._current.get("token", ""))
            if previous is not None:  # old and new both work for 5 more minutes
                limit = self.now() + OVERLAP
                previous.revoked_at = min(previous.revoked_at or limit, limit)
            return {"access_token": self._issue("token"), "expires_in": TOKEN_LIFETIME}

    def _stable_token(self, request: Request, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise WeChatError(47001) from err
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        self._credentials(body.get("appid"), body.get("secret"), request)
        with self._lock:
            current = self._tokens.get(self._current.get("stable", ""))
            if body.get("force_refresh") is True:
                self._force_allowed()
                if current is not None:
                    current.revoked_at = self.now()
            elif current is not None and self._remaining(current) > OVERLAP:
                token = self._current["stable"]
                return {"access_token": token, "expires_in": int(self._remaining(current))}
            return {"access_token": self._issue("stable"), "expires_in": TOKEN_LIFETIME}

    def _credentials(self, app_id: Any, secret: Any, request: Request) -> None:
        if app_id != self.app_id:
            raise WeChatError(40013)
        if not isinstance(secret, str) or not hmac.compare_digest(secret, self.secret):
            raise WeChatError(40001)
        ip = request.client.host if request.client else ""
        if self.ip_whitelist is not None and ip not in self.ip_whitelist:
            raise WeChatError(40164, f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist")

    def _count_daily(self, what: str, limit: int) -> None:
        day = (what, int(self.now() // 86400))
        if self._daily.get(day, 0) >= limit:
            raise WeChatError(45009)
        self._daily[day] = self._daily.get(day, 0) + 1

    def _force_allowed(self) -> None:
        # Force mode: at most 20 a day and 30 s apart (the errcodes used here are unconfirmed).
        if self.now() - self._last_force < FORCE_SPACING:
            raise WeChatError(45011)
        self._count_daily("force", FORCE_PER_DAY)
        self._last_force = self.now()

    def _issue(self, source: str) -> str:
        token = secrets.token_urlsafe(102)  # real tokens run to 136+ characters
        now = self.now()
        self._tokens[token] = IssuedToken(self.app_id, source, now, now + TOKEN_LIFETIME)
        self._current[source] = token
        return token

    def _remaining(self, issued: IssuedToken) -> float:
        now = self.now()
        if issued.revoked_at is not None and now >= issued.revoked_at:
            return 0.0
        return max(0.0, issued.expires_at - now)

    def _authorise(self, token: str | None) -> IssuedToken:
        if not token:
            raise WeChatError(41001)
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None:
            raise WeChatError(40001)
        now = self.now()
        if issued.revoked_at is not None and issued.revoked_at <= min(now, issued.expires_at):
            raise WeChatError(40001)  # replaced by a newer token: "not latest"
        if now >= issued.expires_at:
            raise WeChatError(42001)
        return issued

    # -- temporary media ---------------------------------------------------------------------
    def add_media(self, content: bytes, content_type: str) -> str:
        """Keep a customer's picture, voice or video; return its MediaId (valid 3 days)."""
        media_id = _media_id()
        with self._lock:
            self.media[media_id] = (content, content_type, self.now())
        return media_id

    def _media_get(self, request: Request, raw: bytes) -> dict[str, Any] | Response:
        """The file itself; a video as JSON {"video_url"}; 40007 for an unknown or old id."""
        self._authorise(request.query_params.get("access_token"))
        media_id = request.query_params.get("media_id") or ""
        with self._lock:
            found = self.media.get(media_id)
        if found is None or self.now() - found[2] >= MEDIA_LIFETIME:
            raise WeChatError(40007)
        content, content_type, _created = found
        if content_type.startswith("video/"):
            key = secrets.token_urlsafe(16)
            with self._lock:
                self._videos[key] = content
            return {"video_url": f"{self.base_url}{VIDEO_PREFIX}{key}"}
        extension = content_type.rpartition("/")[2]
        disposition = f'attachment; filename="{media_id[:16]}.{extension}"'
        headers = {"Content-disposition": disposition}
        return Response(content, 200, media_type=content_type, headers=headers)

    def _video(self, path: str) -> tuple[int, Any]:
        with self._lock:
            content = self._videos.get(path.removeprefix(VIDEO_PREFIX))
        if content is None:
            return 404, Response(b"", 404)
        return 200, Response(content, 200, media_type="video/mp4")

    # -- customer-service messages (§2.6) ----------------------------------------------------
    def _custom_send(self, request: Request, raw: bytes) -> dict[str, Any]:
        token = request.query_params.get("access_token")
        self._authorise(token)
        try:  # UTF-8 JSON, with or without a Content-Type header (wechatpy sends none)
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise WeChatError(47001) from err
        if not isinstance(body, dict):
            raise WeChatError(47001)
        touser, msgtype = body.get("touser"), body.get("msgtype")
        if msgtype not in MESSAGE_TYPES:
            raise WeChatError(40008)
        content = (body.get("text") or {}).get("content") if msgtype == "text" else None
        if msgtype == "text" and not content:
            raise WeChatError(44004)
        self._spend_window(touser)
        entry = {"touser": touser, "msgtype": msgtype, "content": content, "raw": raw,
                 "content_type": request.headers.get("content-type"), "token": token,
                 "at": self.now()}  # fmt: skip
        with self._lock:
            self.sent.append(entry)
        return {"errcode": 0, "errmsg": "ok"}

    def _spend_window(self, openid: Any) -> None:
        with self._lock:
            follower = self.followers.get(openid) if isinstance(openid, str) else None
            if follower is None:
                raise WeChatError(40003)
            if not follower.subscribed or self.now() > follower.window_until:
                raise WeChatError(45015)
            if follower.quota <= 0:
                raise WeChatError(45047)
            follower.quota -= 1

    def _grant(self, openid: str, grant: tuple[int, int]) -> None:
        """A trigger opens a send window; it never shortens a longer open one (unconfirmed)."""
        seconds, quota = grant
        with self._lock:
            follower = self.followers.setdefault(openid, Follower())
            follower.subscribed = True
            until = self.now() + seconds
            if until > follower.window_until:
                follower.window_until, follower.quota = until, quota

    # -- push driver (§2.1-2.4) --------------------------------------------------------------
    def push_text(
        self, url: str, openid: str, content: str, *, mode: str = "safe", msg_id: int | None = None
    ) -> httpx.Response | None:
        """A customer's text message, pushed like WeChat; None if every attempt failed."""
        return self.push_message(
            url, openid, "text", {"Content": content}, mode=mode, msg_id=msg_id
        )

    def push_image(
        self, url: str, openid: str, pic_url: str, *, mode: str = "safe", msg_id: int | None = None,
        content: bytes | None = None, media_id: str | None = None,
    ) -> httpx.Response | None:  # fmt: skip
        """A picture: its bytes (`content`) are then served by the media API under MediaId."""
        media_id = media_id or (self.add_media(content, "image/jpeg") if content else _media_id())
        fields = {"PicUrl": pic_url, "MediaId": media_id}
        return self.push_message(url, openid, "image", fields, mode=mode, msg_id=msg_id)

    def push_voice(
        self, url: str, openid: str, recognition: str | None = None, *, fmt: str = "amr",
        mode: str = "safe", msg_id: int | None = None, content: bytes | None = None,
    ) -> httpx.Response | None:  # fmt: skip
        media_id = self.add_media(content, f"audio/{fmt}") if content else _media_id()
        fields = {"MediaId": media_id, "Format": fmt}
        if recognition is not None:
            fields["Recognition"] = recognition
        return self.push_message(url, openid, "voice", fields, mode=mode, msg_id=msg_id)

    def push_video(
        self, url: str, openid: str, content: bytes, *, mode: str = "safe",
        msg_id: int | None = None,
    ) -> httpx.Response | None:  # fmt: skip
        """A video: the media API answers its video_url, where the bytes are."""
        fields = {"MediaId": self.add_media(content, "video/mp4"), "ThumbMediaId": _media_id()}
        return self.push_message(url, openid, "video", fields, mode=mode, msg_id=msg_id)

    def push_location(
        self, url: str, openid: str, lat: float, lon: float, label: str = "", *,
        mode: str = "safe", msg_id: int | None = None,
    ) -> httpx.Response | None:  # fmt: skip
        fields: dict[str, Any] = {"Location_X": lat, "Location_Y": lon, "Scale": 15, "Label": label}
        return self.push_message(url, openid, "location", fields, mode=mode, msg_id=msg_id)

    def push_event(
        self, url: str, openid: str, event: str, event_key: str | None = None, *,
        mode: str = "safe", **extra: str,
    ) -> httpx.Response | None:  # fmt: skip
        """An event push (subscribe, unsubscribe, CLICK, SCAN…); events carry no MsgId."""
        fields: dict[str, Any] = {
            "ToUserName": self.original_id, "FromUserName": openid,
            "CreateTime": int(self.now()), "MsgType": "event", "Event": event,
        }  # fmt: skip
        if event_key is not None:
            fields["EventKey"] = event_key
        fields |= extra
        if event == "unsubscribe":
            self.customer_unfollows(openid)
        elif event in GRANTING_EVENTS:
            self._grant(openid, EVENT_GRANT)
        return self.deliver(url, xml_of(fields), mode=mode, openid=openid)

    def push_message(
        self, url: str, openid: str, msg_type: str, fields: dict[str, Any], *, mode: str = "safe",
        msg_id: int | None = None,
    ) -> httpx.Response | None:  # fmt: skip
        """A customer message of any MsgType; it opens the 48-hour window (5 replies)."""
        head = {"ToUserName": self.original_id, "FromUserName": openid,
                "CreateTime": int(self.now()), "MsgType": msg_type}  # fmt: skip
        if msg_id is None:  # 64-bit integers, 17 digits today
            msg_id = 24_000_000_000_000_000 + secrets.randbelow(10**15)
        self.customer_writes(openid)
        document = xml_of(head | fields | {"MsgId": msg_id})
        return self.deliver(url, document, mode=mode, openid=openid)

    def deliver(
        self, url: str, xml: str | bytes, *, mode: str = "safe", openid: str | None = None
    ) -> httpx.Response | None:
        """Sign (and encrypt) any XML document and push it with WeChat's retries."""
        push = self._seal(url, xml if isinstance(xml, str) else xml.decode(), mode, openid)
        with self._lock:
            self.pushes.append(push)
        return self._deliver(push)

    def redeliver(self, push: Push | None = None) -> httpx.Response | None:
        """Post a push again, byte-identical, once (WeChat re-sends when our answer got lost)."""
        push = push or self.pushes[-1]
        response, entry = self._attempt(push)
        push.attempts.append(entry)
        return response

    def _seal(self, url: str, xml: str, mode: str, openid: str | None) -> Push:
        if mode not in ("plain", "compatible", "safe"):
            raise ValueError(f"unknown mode {mode!r}")
        timestamp, nonce = str(int(self.now())), str(10**9 + secrets.randbelow(9 * 10**9))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce} | ({"openid": openid} if openid else {})  # fmt: skip
        body = xml
        if mode != "plain":
            if not self.encoding_aes_key:
                raise ValueError("safe and compatible modes need the fake's encoding_aes_key")
            sealed, msg_signature = encrypt(
                self.token, self.encoding_aes_key, self.app_id, xml, nonce, timestamp
            )
            query |= {"encrypt_type": "aes", "msg_signature": msg_signature}
            element = f"<Encrypt><![CDATA[{sealed}]]></Encrypt>"
            to_user = f"<ToUserName><![CDATA[{self.original_id}]]></ToUserName>"
            body = f"<xml>{to_user}{element}</xml>" if mode == "safe" else _append(xml, element)
        full = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
        return Push(url=full, body=body.encode("utf-8"), mode=mode, openid=openid)

    def _deliver(self, push: Push) -> httpx.Response | None:
        last = None
        for _ in range(1 + self.retries):
            response, entry = self._attempt(push)
            push.attempts.append(entry)
            last = response or last
            if entry["accepted"]:
                push.accepted = True
                return response
        with self._lock:
            self.customer_notices.append({"openid": push.openid or "", "text": SERVICE_UNAVAILABLE})
        return last

    def _attempt(self, push: Push) -> tuple[httpx.Response | None, dict[str, Any]]:
        headers = {"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"}
        started = time.monotonic()
        try:
            response = httpx.post(push.url, content=push.body, headers=headers,
                                  timeout=self.deadline)  # fmt: skip
        except httpx.HTTPError as err:
            elapsed = time.monotonic() - started
            return None, {"status": None, "error": repr(err), "elapsed": elapsed, "accepted": False}
        elapsed = time.monotonic() - started
        accepted = elapsed <= self.deadline and self._accepts(response, push)
        entry = {"status": response.status_code, "answer": response.content, "elapsed": elapsed,
                 "accepted": accepted}  # fmt: skip
        return response, entry

    def _accepts(self, response: httpx.Response, push: Push) -> bool:
        """`success`, an empty body, or a valid passive reply (encrypted in safe mode)."""
        if response.status_code != 200:
            return False
        body = response.content
        if body in (b"", b"success"):
            return True
        try:
            fields = read_xml(body)
            if "Encrypt" in fields:
                fields = self._open_reply(fields)
            elif push.mode == "safe":
                return False
        except Exception:  # noqa: BLE001 - anything unreadable is "not a valid reply"
            return False
        if not {"ToUserName", "FromUserName", "CreateTime", "MsgType"} <= set(fields):
            return False
        with self._lock:
            self.passive_replies.append(fields)
        return True

    def _open_reply(self, envelope: dict[str, str]) -> dict[str, str]:
        expected = sign(self.token, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
        if not hmac.compare_digest(expected, envelope.get("MsgSignature", "")):
            raise ValueError("bad MsgSignature")
        crypto = WeChatCrypto(self.token, self.encoding_aes_key, self.app_id)
        plain = crypto.decrypt_message(envelope, expected, envelope["TimeStamp"], envelope["Nonce"])
        return read_xml(plain.encode("utf-8"))

    def verify_url(self, url: str, echostr: str | None = None) -> bool:
        """The server-URL handshake: a signed GET whose answer must be `echostr`, exactly."""
        echostr = echostr or str(secrets.randbelow(10**19))
        timestamp, nonce = str(int(self.now())), str(10**9 + secrets.randbelow(9 * 10**9))
        query = {"signature": sign(self.token, timestamp, nonce), "echostr": echostr,
                 "timestamp": timestamp, "nonce": nonce}  # fmt: skip
        try:
            response = httpx.get(url, params=query, timeout=self.deadline)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.content == echostr.encode()


def _append(xml: str, element: str) -> str:
    """Compatible mode: the plain fields and the Encrypt element in one document."""
    head, _, _ = xml.rpartition("</xml>")
    return f"{head}{element}</xml>"


def _media_id() -> str:
    return secrets.token_urlsafe(48)


def main(argv: list[str] | None = None) -> None:
    """Run the fake in the foreground: python -m fakes.wechat --app-id wx… --secret …."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--token", default="omnidesk", help="the push Token of the console")
    parser.add_argument("--aes-key", default=None, help="EncodingAESKey (safe/compatible pushes)")
    parser.add_argument("--original-id", default="gh_97417a04a28d")
    args = parser.parse_args(argv)
    fake = FakeWeChat(
        args.app_id, args.secret, token=args.token, encoding_aes_key=args.aes_key,
        original_id=args.original_id, host=args.host, port=args.port,
    )  # fmt: skip
    with fake, contextlib.suppress(KeyboardInterrupt):
        sys.stderr.write(f"fake WeChat listening on {fake.base_url}\n")
        threading.Event().wait()


if __name__ == "__main__":
    main()
