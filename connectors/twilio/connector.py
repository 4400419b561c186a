"""TwilioConnector: SMS and call webhooks in, the Messages REST API out, status callbacks back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import parse_qsl

import httpx
import requests
import structlog
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from connectors.twilio import inbound, media, outbound, voice
from connectors.twilio.config import TwilioConfig
from omnidesk.connector import ConnectorEnv, Intake
from omnidesk.errors import BadPayload, CannotConnect, InvalidAuth, TransientError
from omnidesk.inbound import Attachment, InboundMessage
from omnidesk.outbound import OutboundReply, SendResult

log = structlog.get_logger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
FORM = "application/x-www-form-urlencoded"


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
        self._http: httpx.Client | None = None  # media fetches, made on first use

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
            error = outbound.classify_error(exc.status, exc.code, exc.msg)
            raise voice.as_callback_task(error, reply.to) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise TransientError(f"Twilio unreachable: {exc}") from exc
        return SendResult(provider_message_id=str(created.sid), status="sent")

    def fetch_media(self, attachment: Attachment, max_bytes: int) -> tuple[bytes, str]:
        """See `MediaConnector.fetch_media`: MMS media and call recordings (Basic auth)."""
        if self._http is None:
            self._http = httpx.Client(timeout=self.env.http_timeout, follow_redirects=True)
        return media.fetch(self._http, self.config, attachment, max_bytes)

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
        """See `WebhookConnector.webhooks`: /sms for messages, /status for delivery reports,
        /voice/… for calls."""
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

        self._voice_routes(router, intake)
        return router

    def _voice_routes(self, router: APIRouter, intake: Intake) -> None:
        """Calls: TwiML answers, and requests from speech, voicemail or a missed call."""

        @router.post("/voice")
        async def call(request: Request) -> Response:
            params, _raw = await self._verified(request, intake)
            _sid, caller = inbound.call_party(params)
            language, hours = self._language(caller), voice.business_hours(self.env.extras)
            desk = self.env.extras.get(f"desk_name_{language}")
            is_open = hours.is_open(datetime.now(UTC))
            return _twiml(voice.answer_call(language, is_open, hours, self._urls, desk))

        @router.post("/voice/gather")
        async def gather(request: Request) -> Response:
            params, raw = await self._verified(request, intake)
            _sid, caller = inbound.call_party(params)
            language = self._language(caller)
            message = inbound.parse_speech(params, self.config.name)
            if message is None:
                max_seconds = self.config.voice_max_message_seconds
                called = params.get("To", "")
                document = voice.ask_voicemail(language, self._urls, caller, called, max_seconds)
                return _twiml(document)
            await self._accept(intake, message, raw)
            return _twiml(voice.goodbye(language, "thanks_speech"))

        @router.post("/voice/recorded")
        async def recorded(request: Request) -> Response:
            # The Record action: the recording itself is stored from its status callback.
            params, _raw = await self._verified(request, intake)
            language = self._language(inbound.call_party(params)[1])
            return _twiml(voice.goodbye(language, "thanks_voicemail"))

        @router.post("/voice/silent")
        async def silent(request: Request) -> Response:
            params, raw = await self._verified(request, intake)
            message = inbound.parse_missed_call(params, self.config.name, "silent call")
            await self._accept(intake, message, raw)
            return _twiml(voice.goodbye(self._language(message.sender.address), "silent"))

        @router.post("/voice/status")
        async def call_status(request: Request) -> Response:
            params, raw = await self._verified(request, intake)
            await self._accept(intake, inbound.parse_call_status(params, self.config.name), raw)
            return Response(status_code=204)

        @router.post("/voice/recording")
        async def recording(request: Request) -> Response:
            params, raw = await self._verified(request, intake)
            caller, called = request.query_params.get("from"), request.query_params.get("to")
            language = self._language(caller or "")
            message = inbound.parse_recording(params, self.config.name, caller, called, language)
            await self._accept(intake, message, raw)
            return Response(status_code=204)

        @router.post("/voice/transcription")
        async def transcription(request: Request) -> Response:
            params, raw = await self._verified(request, intake)
            await self._accept(intake, inbound.parse_transcription(params, self.config.name), raw)
            return Response(status_code=204)

    @property
    def _urls(self) -> voice.CallUrls:
        return voice.CallUrls(self.env.webhook_url(self.config.name, "voice"))

    def _language(self, number: str) -> str:
        return voice.caller_language(number, self.config.voice_language)

    @staticmethod
    async def _accept(intake: Intake, message: InboundMessage | None, raw: bytes) -> None:
        if message is not None:
            await run_in_threadpool(intake.accept, message, raw, FORM)

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


def _twiml(document: str) -> Response:
    return Response(document, media_type="text/xml")
