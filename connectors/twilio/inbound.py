"""Verify and parse what Twilio posts: SMS/MMS, message status callbacks and voice calls. No I/O."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from omnidesk.errors import BadPayload, SignatureError
from omnidesk.inbound import Attachment, InboundMessage, Sender

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})

# Twilio's message statuses → ours (canceled is terminal; queued/accepted never come as callbacks).
STATUS_MAP = {
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def verify(auth_token: str, url: str, params: dict[str, str], signature: str | None) -> None:
    """Check X-Twilio-Signature over the public URL and the form parameters (protocols 1.2)."""
    if not signature:
        raise SignatureError("missing X-Twilio-Signature")
    # RequestValidator compares in constant time and tries the URL with and without the port.
    if not RequestValidator(auth_token).validate(url, params, signature):
        raise SignatureError("X-Twilio-Signature does not match")


def check_account(params: dict[str, str], account_sid: str) -> None:
    if params.get("AccountSid") != account_sid:
        raise SignatureError("AccountSid is not this connector's account")


def keyword_kind(body: str) -> str | None:
    """Twilio's opt-out/opt-in/help keywords (protocols 1.8): recorded, never auto-answered."""
    word = body.strip().upper()
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None


def parse_sms(params: dict[str, str], connector: str) -> InboundMessage:
    """An inbound SMS/MMS webhook as an InboundMessage (MessageSid is the dedupe key)."""
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid")
    sender = params.get("From")
    if not sid or not sender:
        raise BadPayload("MessageSid and From are required")
    body = params.get("Body", "")
    return InboundMessage(
        channel="twilio",
        connector=connector,
        provider_message_id=sid,
        sender=Sender(kind="phone", address=sender.removeprefix("whatsapp:")),
        recipient=params.get("To"),
        text=body,
        attachments=tuple(_media(params)),
        automatic=keyword_kind(body),
    )


def _media(params: dict[str, str]) -> list[Attachment]:
    try:
        count = int(params.get("NumMedia", "0") or 0)
    except ValueError as exc:
        raise BadPayload("NumMedia is not a number") from exc
    media = []
    for n in range(min(count, 10)):
        url = params.get(f"MediaUrl{n}")
        if url:
            media.append(
                Attachment(
                    url=url,
                    content_type=params.get(f"MediaContentType{n}", "application/octet-stream"),
                )
            )
    return media


def parse_status(params: dict[str, str]) -> tuple[str, str, str | None] | None:
    """(MessageSid, our status, error code) of a status callback; None for statuses we ignore."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = STATUS_MAP.get(params.get("MessageStatus") or params.get("SmsStatus") or "")
    if not sid:
        raise BadPayload("MessageSid is required")
    if status is None:
        return None
    return sid, status, params.get("ErrorCode") or None


# -- voice calls (protocols 1.9) ------------------------------------------------------------

MISSED_CALL_STATUSES = frozenset({"no-answer", "busy", "failed", "canceled"})
VOICEMAIL_TEXT = {"zh": "[语音留言，需要收听]", "en": "[Voicemail, needs listening]"}


def call_party(params: dict[str, str]) -> tuple[str, str]:
    """(CallSid, caller's number) of a call webhook."""
    sid, number = params.get("CallSid"), params.get("From") or params.get("Caller")
    if not sid or not number:
        raise BadPayload("CallSid and From are required")
    return sid, number


def parse_speech(params: dict[str, str], connector: str) -> InboundMessage | None:
    """What the caller said in <Gather> (SpeechResult); None when they said nothing."""
    sid, number = call_party(params)
    text = (params.get("SpeechResult") or "").strip()
    if not text:
        return None
    return _call_message(connector, f"call:{sid}:speech", number, params.get("To"), text)


def parse_missed_call(params: dict[str, str], connector: str, reason: str) -> InboundMessage:
    """A call that left nothing: a request for an agent to call back (key `call:{CallSid}`)."""
    sid, number = call_party(params)
    text = f"未接来电 / Missed call from {number}, please call back ({reason})"
    subject = f"回电 Call back {number}"
    return _call_message(connector, f"call:{sid}", number, params.get("To"), text, subject)


def parse_call_status(params: dict[str, str], connector: str) -> InboundMessage | None:
    """A call status callback: missed calls become call-back requests, the rest is ignored."""
    status = params.get("CallStatus", "")
    if status not in MISSED_CALL_STATUSES:
        return None
    return parse_missed_call(params, connector, f"CallStatus {status}")


def parse_recording(
    params: dict[str, str], connector: str, caller: str | None, called: str | None, language: str
) -> InboundMessage | None:
    """A finished voicemail (recordingStatusCallback), keyed by RecordingSid, audio attached."""
    if params.get("RecordingStatus", "completed") != "completed":
        return None
    recording_sid, url = params.get("RecordingSid"), params.get("RecordingUrl")
    if not recording_sid or not url or not caller:
        raise BadPayload("RecordingSid, RecordingUrl and the caller's number are required")
    text = f"{VOICEMAIL_TEXT[language]} ({params.get('RecordingDuration', '?')} s)"
    return _call_message(
        connector, f"recording:{recording_sid}", caller, called, text,
        f"语音留言 Voicemail {caller}", _recording(params),
    )  # fmt: skip


def parse_transcription(params: dict[str, str], connector: str) -> InboundMessage | None:
    """A voicemail's transcript (English only); it joins the caller's open request."""
    if params.get("TranscriptionStatus") != "completed":
        return None
    text = (params.get("TranscriptionText") or "").strip()
    if not text:
        return None
    sid, number = call_party(params)
    return _call_message(
        connector, f"call:{sid}:transcript", number, params.get("To"), text,
        f"语音留言 Voicemail {number}", _recording(params),
    )  # fmt: skip


def _recording(params: dict[str, str]) -> tuple[Attachment, ...]:
    url, sid = params.get("RecordingUrl"), params.get("RecordingSid")
    if not url:
        return ()
    # RecordingUrl serves WAV; fetching it needs the account's credentials.
    return (Attachment(url=url, content_type="audio/wav", filename=f"{sid or 'recording'}.wav"),)


def _call_message(
    connector: str, key: str, number: str, called: str | None, text: str,
    subject: str | None = None, attachments: tuple[Attachment, ...] = (),
) -> InboundMessage:  # fmt: skip
    # Sender kind "phone", like SMS: a caller and a texter with one number are one customer.
    return InboundMessage(
        channel="twilio", connector=connector, provider_message_id=key,
        sender=Sender(kind="phone", address=number), recipient=called, subject=subject,
        text=text, attachments=attachments,
    )  # fmt: skip
