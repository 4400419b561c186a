"""WeiboConnector: signed JSON pushes in, the private-message reply API out."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import httpx
import structlog
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from connectors.weibo import inbound, media, outbound
from connectors.weibo.config import WeiboConfig
from omnidesk.connector import ConnectorEnv, Intake
from omnidesk.errors import (
    BadPayload,
    CannotConnect,
    InvalidAuth,
    Quarantine,
    SignatureError,
    TransientError,
)
from omnidesk.inbound import Attachment, InboundMessage
from omnidesk.outbound import OutboundReply, SendResult

log = structlog.get_logger(__name__)
MAX_REMEMBERED_NONCES = 10_000


class WeiboConnector:
    """See `omnidesk.connector.WebhookConnector`."""

    channel: ClassVar[str] = "weibo"
    config_class: ClassVar[type[WeiboConfig]] = WeiboConfig
    identity_kind: ClassVar[str] = "weibo"

    def __init__(self, config: WeiboConfig, env: ConnectorEnv) -> None:
        self.config = config
        self.env = env
        self.api = config.api_base_url.rstrip("/")
        self._nonces = _NonceMemory(MAX_REMEMBERED_NONCES)

    def check(self) -> None:
        """See `Connector.check`. The token goes in the OAuth2 header, never in a URL."""
        token = self.config.access_token.get_secret_value()
        try:
            response = httpx.get(
                self.config.account_api_url + outbound.UID_PATH,
                headers={"Authorization": f"OAuth2 {token}"},
                timeout=self.env.http_timeout,
            )
        except httpx.HTTPError as exc:
            raise CannotConnect(f"Weibo unreachable ({type(exc).__name__})") from exc
        if response.is_success and _has_uid(response):
            return
        error = outbound.classify_error(response.status_code, response.content)
        if error.code in {str(code) for code in outbound.TOKEN_REASONS}:
            raise InvalidAuth(error.reason, field="access_token")
        raise CannotConnect(f"Weibo answered {response.status_code}: {error.reason}")

    def send(self, reply: OutboundReply) -> SendResult:
        """See `Connector.send`. Outside the window or too long: refused before any call."""
        window = timedelta(hours=self.config.reply_window_hours)
        text = outbound.check_reply(reply, datetime.now(UTC), window)
        form = outbound.reply_form(reply.to, text, self.config.access_token.get_secret_value())
        try:
            response = httpx.post(
                self.api + outbound.REPLY_PATH, data=form, timeout=self.env.http_timeout
            )
        except httpx.HTTPError as exc:
            raise TransientError(f"Weibo unreachable ({type(exc).__name__})") from exc
        return outbound.read_answer(response.status_code, response.content, reply)

    def fetch_media(self, attachment: Attachment, max_bytes: int) -> tuple[bytes, str]:
        """See `MediaConnector.fetch_media`: pictures and voice of private messages."""
        with httpx.Client(timeout=self.env.http_timeout) as http:
            return media.fetch(http, self.config, attachment, max_bytes)

    def webhooks(self, intake: Intake) -> APIRouter:
        """See `WebhookConnector.webhooks`: GET / verifies the URL, POST / takes pushes."""
        router = APIRouter()

        @router.get("/")
        async def verify_url(request: Request) -> Response:
            self._verified(request)
            return Response(request.query_params.get("echostr", ""), media_type="text/plain")

        @router.post("/")
        async def push(request: Request) -> Response:
            query = self._verified(request)
            raw = await request.body()
            self._nonces.claim(query, raw)
            content_type = request.headers.get("content-type", "application/json")
            if raw.strip():
                await run_in_threadpool(self._take, intake, raw, content_type)
            # An empty answer: no passive reply, and Weibo does not retry (protocols 3.2).
            return Response(b"", media_type="text/plain")

        return router

    def _verified(self, request: Request) -> dict[str, str]:
        query = dict(request.query_params)
        secret = self.config.app_secret.get_secret_value()
        inbound.verify(
            secret, query, now=time.time(), max_skew_seconds=self.config.max_clock_skew_seconds
        )
        return query

    def reparse(self, raw: bytes, content_type: str) -> InboundMessage:
        """Read a quarantined push again (omnidesk.services.quarantine). Only pushes whose
        signature was verified on arrival are ever held (`_take` runs after `_verified`), so
        this only parses; the request that carried the signature is long gone.

        Raises:
            Quarantine: the push still cannot be read.
        """
        try:
            return inbound.parse(raw, self.config.name)
        except BadPayload as exc:
            raise Quarantine(str(exc)) from exc

    def _take(self, intake: Intake, raw: bytes, content_type: str) -> None:
        """Store a signed push; one we cannot read is quarantined, so Weibo stops retrying."""
        try:
            message = inbound.parse(raw, self.config.name)
        except BadPayload as exc:
            intake.quarantine(self.config.name, raw, content_type, str(exc))
            return
        intake.accept(message, raw, content_type)


def _has_uid(response: httpx.Response) -> bool:
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and "uid" in answer


class _NonceMemory:
    """The signature covers timestamp and nonce only, not the body: a captured signature could
    carry another body inside the skew window. Weibo's retries resend the same bytes, so one
    (timestamp, nonce) with two different bodies is a forgery. Per process, bounded."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, query: dict[str, str], raw: bytes) -> None:
        key = (query.get("timestamp", ""), query.get("nonce", ""))
        digest = hashlib.sha256(raw).hexdigest()
        with self._lock:
            seen = self._seen.setdefault(key, digest)
            self._seen.move_to_end(key)
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
        if seen != digest:
            raise SignatureError("a signature was reused with a different body")
