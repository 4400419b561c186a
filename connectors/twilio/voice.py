"""Phone calls: the TwiML the desk answers with (greeting, speech, voicemail). Pure functions.

A call flows: greeting inside `<Gather input="speech">` → the caller's words arrive at
/voice/gather; with nothing said, a voicemail `<Record>` → /voice/recorded, then the recording
and (English only) transcription callbacks. An empty recording falls through to the
`<Redirect>` after `<Record>` (Twilio skips the action then, protocols 1.9): a silent call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from omnidesk.errors import PermanentSendError
from omnidesk.services.hours import BusinessHours

ZH_PREFIXES = ("+86", "+852", "+853", "+886")
# <Say> voice per language; the language tag Polly.Zhiyu wants is (unconfirmed): cmn-CN.
SAY = {
    "zh": {"language": "cmn-CN", "voice": "Polly.Zhiyu"},
    "en": {"language": "en-US", "voice": "Polly.Joanna"},
}
GATHER_LANGUAGE = {"zh": "zh-CN", "en": "en-US"}
DESK_NAMES = {"zh": "TP官方客服", "en": "TP Customer Service"}
# Twilio answers these when the number cannot take an SMS: the reply becomes a call back.
NOT_TEXTABLE = frozenset({"21612", "21614"})

TEXTS = {
    "zh": {
        "open": "您好，欢迎致电{desk}。请简要说出您的问题，我们会通过短信回复您。",
        "closed": "您好，欢迎致电{desk}。现在是非工作时间，"
        "人工客服的工作时间是工作日{opens}到{closes}。请简要说出您的问题，我们会在上班后尽快回复您。",
        "voicemail": "请在提示音后留言，说完后挂机即可。",
        "thanks_speech": "谢谢，我们已经记下您的问题，稍后会通过短信联系您。再见。",
        "thanks_voicemail": "谢谢您的留言，我们会尽快回复您。再见。",
        "silent": "我们没有听到您的声音，客服会给您回电。再见。",
    },
    "en": {
        "open": "Hello, thank you for calling {desk}. Please tell us briefly how we can help; "
        "we will reply by text message.",
        "closed": "Hello, thank you for calling {desk}. We are closed now; our agents work on "
        "weekdays from {opens} to {closes}. Please tell us briefly how we can help, and we will "
        "get back to you when we open.",
        "voicemail": "Please leave a message after the tone, then hang up.",
        "thanks_speech": "Thank you, we have noted your request and will text you soon. Goodbye.",
        "thanks_voicemail": "Thank you for your message. We will get back to you soon. Goodbye.",
        "silent": "We could not hear you. An agent will call you back. Goodbye.",
    },
}


@dataclass(frozen=True)
class CallUrls:
    """Where Twilio posts during a call: the connector's webhook URLs."""

    base: str  # …/webhooks/{name}/voice

    def at(self, path: str, **query: str) -> str:
        return f"{self.base}/{path}" + (f"?{urlencode(query)}" if query else "")


def caller_language(number: str, setting: str = "auto") -> str:
    """zh for mainland China, Hong Kong, Macau and Taiwan numbers, else en; or the setting."""
    if setting in ("zh", "en"):
        return setting
    return "zh" if number.startswith(ZH_PREFIXES) else "en"


def business_hours(extras: dict[str, Any]) -> BusinessHours:
    """The desk's hours handed to connectors (`extras["business_hours"]` or `["time_zone"]`)."""
    hours = extras.get("business_hours")
    if isinstance(hours, BusinessHours):
        return hours
    zone = extras.get("time_zone")
    return BusinessHours(time_zone=zone) if isinstance(zone, str) else BusinessHours()


def greeting(language: str, is_open: bool, hours: BusinessHours, desk: str | None = None) -> str:
    """The words a caller hears first, in or out of business hours."""
    template = TEXTS[language]["open" if is_open else "closed"]
    opens, closes = f"{hours.opens:%H:%M}", f"{hours.closes:%H:%M}"
    return template.format(desk=desk or DESK_NAMES[language], opens=opens, closes=closes)


def answer_call(language: str, is_open: bool, hours: BusinessHours, urls: CallUrls,
                desk: str | None = None) -> str:  # fmt: skip
    """TwiML for the inbound call: the greeting while listening for speech."""
    response = VoiceResponse()
    gather = Gather(
        input="speech", language=GATHER_LANGUAGE[language], speech_timeout="auto",
        action_on_empty_result=True, action=urls.at("gather"), method="POST", timeout=5,
    )  # fmt: skip
    gather.say(greeting(language, is_open, hours, desk), **SAY[language])
    response.append(gather)
    return str(response)


def ask_voicemail(language: str, urls: CallUrls, caller: str, called: str, max_seconds: int) -> str:
    """TwiML after an empty Gather: record a voicemail; transcription only works in English."""
    response = VoiceResponse()
    response.say(TEXTS[language]["voicemail"], **SAY[language])
    transcribe: dict[str, Any] = {}
    if language == "en":
        transcribe = {"transcribe": True, "transcribe_callback": urls.at("transcription")}
    response.record(
        action=urls.at("recorded"), method="POST", max_length=max_seconds, timeout=5,
        finish_on_key="#", play_beep=True, trim="trim-silence",
        # The recording callback carries no From/To (protocols 1.9): the signed URL does.
        recording_status_callback=urls.at("recording", **{"from": caller, "to": called}),
        recording_status_callback_event="completed", recording_status_callback_method="POST",
        **transcribe,
    )  # fmt: skip
    response.redirect(urls.at("silent"), method="POST")
    return str(response)


def goodbye(language: str, text: str) -> str:
    """TwiML that says one of TEXTS' closing lines and hangs up."""
    response = VoiceResponse()
    response.say(TEXTS[language][text], **SAY[language])
    response.hangup()
    return str(response)


def as_callback_task(error: Exception, number: str) -> Exception:
    """An SMS reply the number cannot take becomes a call back, said so for the agent."""
    if isinstance(error, PermanentSendError) and error.code in NOT_TEXTABLE:
        reason = f"{error.reason}; call the customer back on {number} instead (callback task)"
        return PermanentSendError(error.code, reason)
    return error
