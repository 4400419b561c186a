"""TwilioConnector: SMS webhooks in, the Messages REST API out, status callbacks back."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qsl

import requests
import structlog
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from connectors.twilio import inbound, outbound
from connectors.twilio.config import TwilioConfig
from omnidesk.connector import ConnectorEnv, Intake
from omnidesk.errors import BadPayload, CannotConnect, InvalidAuth, TransientError
from omnidesk.outbound import OutboundReply, SendResult

log = structlog.get_logger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class TwilioConnector:
    """See `omnidesk.connector.WebhookConnector`."""

    channel: ClassVar[str] = "twilio"
    config_class: ClassVar[type[TwilioConfig]] = TwilioConfig
    identity_kind: ClassVar[str] = "phone"

    def __init__(self, config: TwilioConfig, env: ConnectorEnv) -> None:
        self.config = config
        self.env = env
        self.client = Client(
            config.account_sid,
            config.auth_token.get_secret_value(),
            http_client=TwilioHttpClient(timeout=env.http_timeout),
        )
        self.client.api.base_url = config.api_base_url.rstrip("/")

    @property
    def token(self) -> str:
        return self.config.auth_token.get_secret_value()

    def check(self) -> None:
        """See `Connector.check`."""
        try:
            self.client.api.v2010.accounts(self.config.account_sid).fetch()
        except TwilioRestException as exc:
            if exc.status in (401, 403, 404):
                raise InvalidAuth("Twilio refused the credentials", field="auth_token") from exc
            raise CannotConnect(f"Twilio answered {exc.status}") from exc
        except (requests.RequestException, TwilioException) as exc:
            raise CannotConnect(str(exc)) from exc

    def send(self, reply: OutboundReply) -> SendResult:
        """See `Connector.send`."""
        callback = (
            self.env.webhook_url(self.config.name, "status")
            if self.config.status_callbacks
            else None
        )
        params = outbound.message_params(
            reply, self.config.from_number, self.config.messaging_service_sid, callback
        )
        try:
            created = self.client.messages.create(**params)
        except TwilioRestException as exc:
            raise outbound.classify_error(exc.status, exc.code, exc.msg) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise TransientError(f"Twilio unreachable: {exc}") from exc
        return SendResult(provider_message_id=str(created.sid), status="sent")

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        """After an interrupted send: the provider's copy of this reply, if Twilio has one."""
        try:
            recent = self.client.messages.list(to=reply.to, limit=50)
        except (TwilioException, requests.RequestException) as exc:
            raise TransientError(f"cannot list Twilio messages: {exc}") from exc
        for message in recent:
            if (
                message.body == reply.text[: outbound.MAX_BODY]
                and message.direction == "outbound-api"
            ):
                return SendResult(provider_message_id=str(message.sid), status="sent")
        return None

    def webhooks(self, intake: Intake) -> APIRouter:
        """See `WebhookConnector.webhooks`: /sms for messages, /status for delivery reports."""
        router = APIRouter()

        @router.post("/sms")
        async def sms(request: Request) -> Response:
            params, raw = await self._verified(request, intake)
            message = inbound.parse_sms(params, self.config.name)
            await run_in_threadpool(
                intake.accept, message, raw, "application/x-www-form-urlencoded"
            )
            return Response(EMPTY_TWIML, media_type="text/xml")

        @router.post("/status")
        async def status(request: Request) -> Response:
            params, _raw = await self._verified(request, intake)
            report = inbound.parse_status(params)
            if report is not None:
                sid, state, code = report
                reason = outbound.REASONS.get(int(code)) if code and code.isdigit() else None
                await run_in_threadpool(
                    intake.update_delivery, self.config.name, sid, state, code, reason
                )
            return Response(status_code=204)

        return router

    async def _verified(self, request: Request, intake: Intake) -> tuple[dict[str, str], bytes]:
        """The form parameters of a correctly signed call from our account, and the raw body."""
        raw = await request.body()
        try:
            params = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise BadPayload("the body is not UTF-8") from exc
        signature = request.headers.get("X-Twilio-Signature")
        inbound.verify(self.token, intake.public_url(request), params, signature)
        inbound.check_account(params, self.config.account_sid)
        return params, raw
