"""WeChatConnector: pushes in at /webhooks/{name}, customer-service messages out (protocols 2)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import structlog
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from connectors.wechat import inbound, media, outbound
from connectors.wechat.config import WeChatConfig
from connectors.wechat.token import TokenCache, TokenFetchError, fetch_stable_token, store_for
from omnidesk.connector import ConnectorEnv, Intake
from omnidesk.errors import CannotConnect, InvalidAuth, MediaUnavailable, TransientError
from omnidesk.inbound import Attachment
from omnidesk.outbound import OutboundReply, SendResult

log = structlog.get_logger(__name__)
# The config field an admin must correct when the token endpoint refuses the credentials.
AUTH_FIELDS = {40001: "app_secret", 40013: "app_id", 40125: "app_secret"}


class WeChatConnector:
    """See `omnidesk.connector.WebhookConnector`."""

    channel: ClassVar[str] = "wechat"
    config_class: ClassVar[type[WeChatConfig]] = WeChatConfig
    identity_kind: ClassVar[str] = "wechat"

    def __init__(self, config: WeChatConfig, env: ConnectorEnv) -> None:
        self.config = config
        self.env = env
        self.http = httpx.Client(timeout=env.http_timeout)
        self.tokens = TokenCache(store_for(env.redis_url), config.app_id, self._fetch_token)
        self.keys = inbound.PushKeys(
            token=config.token.get_secret_value(),
            app_id=config.app_id,
            aes_keys=config.aes_keys(),
            max_skew=config.max_clock_skew_seconds,
        )

    def _fetch_token(self, force: bool) -> tuple[str, int]:
        secret = self.config.app_secret.get_secret_value()
        base = self.config.api_base_url
        return fetch_stable_token(self.http, base, self.config.app_id, secret, force)

    def check(self) -> None:
        """See `Connector.check`: one stable_token call (normal mode leaves the token as is)."""
        try:
            self._fetch_token(force=False)
        except TokenFetchError as exc:
            if exc.errcode in AUTH_FIELDS:
                field = AUTH_FIELDS[exc.errcode]
                raise InvalidAuth(f"WeChat refused the {field} ({exc.errcode})", field) from exc
            raise CannotConnect(f"WeChat refused a token: {exc.errcode} {exc.errmsg}") from exc
        except (httpx.HTTPError, TransientError) as exc:
            raise CannotConnect(f"WeChat unreachable: {exc}") from exc

    def send(self, reply: OutboundReply) -> SendResult:
        """See `Connector.send`. WeChat answers no message id; ours stands in for it."""
        outbound.refuse_outside_window(reply.last_inbound_at, datetime.now(UTC))
        body = outbound.text_body(reply)
        try:
            answer = self._post_with_token(body)
        except TokenFetchError as exc:
            raise outbound.classify_token_error(exc.errcode, exc.errmsg) from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"WeChat unreachable: {exc!r}") from exc
        if code := outbound.errcode_of(answer):
            raise outbound.classify_error(code, str(answer.get("errmsg", "")))
        return SendResult(provider_message_id=f"custom:{reply.message_id}", status="sent")

    def fetch_media(self, attachment: Attachment, max_bytes: int) -> tuple[bytes, str]:
        """See `MediaConnector.fetch_media`: image, voice and video of a push (3 days)."""
        try:
            return media.fetch(
                self.http, self.config.api_base_url, self._media_token, attachment, max_bytes
            )
        except TokenFetchError as exc:
            raise MediaUnavailable("media_refused", f"WeChat refused a token: {exc}") from exc

    def _media_token(self, rejected: str | None) -> str:
        return self.tokens.get() if rejected is None else self.tokens.refresh(rejected=rejected)

    def _post_with_token(self, body: bytes) -> dict[str, Any]:
        """custom/send with the shared token; on a token error, one refresh and one retry."""
        token = self.tokens.get()
        answer = self._post(token, body)
        code = outbound.errcode_of(answer)
        if code in outbound.TOKEN_ERRORS:
            log.info("wechat_token_rejected", connector=self.config.name, errcode=code)
            answer = self._post(self.tokens.refresh(rejected=token), body)
        return answer

    def _post(self, token: str, body: bytes) -> dict[str, Any]:
        url = outbound.custom_send_url(self.config.api_base_url, token)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        response = self.http.post(url, content=body, headers=headers)
        return outbound.read_answer(response.status_code, response.content)

    def webhooks(self, intake: Intake) -> APIRouter:
        """See `WebhookConnector.webhooks`: GET verifies the server URL, POST takes pushes."""
        router = APIRouter()

        @router.get("/")
        async def verify_url(request: Request) -> Response:
            echostr = inbound.verify_url(self.keys, request.query_params, time.time())
            return Response(echostr, media_type="text/plain")

        @router.post("/")
        async def push(request: Request) -> Response:
            # Store, then answer "success" well inside WeChat's 5 s; replies go out later
            # through the customer-service API (protocols 2.4).
            raw = await request.body()
            fields = inbound.open_push(self.keys, request.query_params, raw, time.time())
            message = inbound.parse(fields, self.config.name)
            await run_in_threadpool(intake.accept, message, raw, "text/xml")
            return Response("success", media_type="text/plain")

        return router
