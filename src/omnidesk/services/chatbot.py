"""The 24-hour bot of live chat: answer from the order system and the knowledge base, hand off.

A live-chat request opens with `bot_active` set: it is the bot's and stands in no queue. The bot
answers each customer message through the same `Answerer` as every channel's automatic answer,
always offering a person. It hands the request to the desk (`handoff_requested`, then SLA and
assignment as for any routed request) when the customer asks for a person, when the request is
a complaint, when the classifier was unsure of the opening message and the bot has no answer
(low confidence), or when the bot could not answer twice.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import Event, Message, Request, utcnow
from omnidesk.services import assign, events, ingest, sla
from omnidesk.services.answers import (
    AnswerSource,
    AutoAnswer,
    Lookup,
    LookupFailure,
    asks_for_human,
)

# Channels whose new requests the bot answers first (live chat, where someone waits on the page).
BOT_CHANNELS = frozenset({"webchat"})
MAX_FAILURES = 2
# What the widget's hand-off button sends as the visitor's message.
HANDOFF_LABELS = {"zh": "转人工", "en": "Talk to a person"}

PHRASES: dict[tuple[str, str], str] = {
    ("zh", "offer"): "如需人工客服，请点击“转人工”或输入“转人工”。",
    ("en", "offer"): "To talk to a person, press “Talk to a person” or type 'agent'.",
    (
        "zh",
        "unsure",
    ): "抱歉，我没能理解您的问题。可以换个说法再问一次，或输入“转人工”由客服为您解答。",
    ("en", "unsure"): (
        "Sorry, I did not understand. Could you put it another way? Or type 'agent' to talk to "
        "a person."
    ),
    (
        "zh",
        "queued",
    ): "好的，已为您转接人工客服（请求号 #{request_id}），客服马上为您解答，请稍候。",
    ("en", "queued"): (
        "OK, a specialist will answer you shortly here in this chat (request #{request_id})."
    ),
    ("zh", "after_hours"): (
        "好的，已为您转接人工客服（请求号 #{request_id}）。现在是非工作时间，人工客服将于"
        "{next_opening}回复您。请留下您的姓名和邮箱或手机号，以便我们在您离开后继续联系您。"
    ),
    ("en", "after_hours"): (
        "OK, a specialist will take over (request #{request_id}). We are closed now: a "
        "specialist will answer after {next_opening}. Please leave your name and an email or "
        "phone number so we can reach you if you leave."
    ),
}
OFFERED = ("人工", "'agent'", '"agent"')


def phrase(name: str, language: str | None, **values: object) -> str:
    lang = language if language in ("zh", "en") else "zh"
    return PHRASES[(lang, name)].format(**values)


def is_bot_channel(channel: str) -> bool:
    return channel in BOT_CHANNELS


def wants_person(text: str) -> bool:
    """Whether the customer asks for a person (typed, or the widget's hand-off button)."""
    cleaned = text.strip()
    return cleaned in HANDOFF_LABELS.values() or asks_for_human(cleaned)


def lookups(session: Session, request: Request, message: Message) -> list[Lookup]:
    """The answerer questions `answer` will ask for this message, in order (the first that finds
    something wins): asked before the write transaction, with none open (`PrefetchedAnswers`)."""
    if wants_person(message.text) or request.category == "complaint":
        return []
    language = request.language if request.language in ("zh", "en") else "zh"
    chain = [Lookup(message.text, request.category, language, True)]
    if not ingest.is_opening_message(session, message):
        chain += [
            Lookup(message.text, category, language, True)
            for category in (None, "order")
            if category != request.category
        ]
    return chain


def answer(
    session: Session,
    request: Request,
    message: Message,
    config: DeskConfig,
    answerer: AnswerSource,
) -> tuple[str, str]:
    """The bot's reply to one customer message and its kind (bot_answer, bot_unsure, handoff)."""
    language = request.language if request.language in ("zh", "en") else "zh"
    if wants_person(message.text):
        return hand_off(session, request, config, "asked"), "handoff"
    if request.category == "complaint":
        return hand_off(session, request, config, "complaint"), "handoff"
    found = record_lookup(
        session, request, message, _lookup(session, request, message, answerer, language)
    )
    if found is not None:
        return _with_offer(found.text, language), "bot_answer"
    if request.needs_triage and ingest.is_opening_message(session, message):
        return hand_off(session, request, config, "low_confidence"), "handoff"
    events.record(session, "bot_failed", request_id=request.id, message_id=message.id)
    if failures(session, request) >= MAX_FAILURES:
        return hand_off(session, request, config, "bot_failed_twice"), "handoff"
    return phrase("unsure", language), "bot_unsure"


def record_lookup(
    session: Session, request: Request, message: Message, found: AutoAnswer | LookupFailure | None
) -> AutoAnswer | None:
    """Log what an automatic-answer lookup found (an answer, or why the order system failed)."""
    if isinstance(found, LookupFailure):
        events.record(session, "order_lookup_failed", request_id=request.id, reason=found.reason)
        return None
    if found is not None:
        events.record(
            session,
            "auto_answered",
            request_id=request.id,
            message_id=message.id,
            source=found.source,
            reference=found.reference,
            score=found.score,
        )
    return found


def _lookup(
    session: Session, request: Request, message: Message, answerer: AnswerSource, language: str
) -> AutoAnswer | LookupFailure | None:
    """An answer in the request's category; for a later message also in any category, and
    from the order system: a chat moves from topic to topic, and the request's category is
    the opening message's."""
    found = answerer.answer(message.text, request.category, language, short=True)
    if found is not None or ingest.is_opening_message(session, message):
        return found
    for category in (None, "order"):
        if category != request.category:
            found = answerer.answer(message.text, category, language, short=True)
            if found is not None:
                return found
    return None


def failures(session: Session, request: Request) -> int:
    stmt = select(func.count()).where(Event.request_id == request.id, Event.kind == "bot_failed")
    return int(session.exec(stmt).one())


def hand_off(session: Session, request: Request, config: DeskConfig, reason: str) -> str:
    """Make the request a task like any routed one; return what the bot tells the customer."""
    request.bot_active = False
    request.updated_at = utcnow()
    session.add(request)
    events.record(session, "handoff_requested", request_id=request.id, reason=reason)
    sla.apply(session, request, config)
    assign.assign(session, request)
    language = request.language if request.language in ("zh", "en") else "zh"
    hours = sla.hours_of(session, config, request.team)
    now = utcnow()
    if hours.is_open(now):
        return phrase("queued", language, request_id=request.id)
    opening = hours.describe_next_opening(now, language)
    return phrase("after_hours", language, request_id=request.id, next_opening=opening)


def _with_offer(text: str, language: str) -> str:
    if any(word in text for word in OFFERED):
        return text
    return f"{text}{'' if language == 'zh' else ' '}{phrase('offer', language)}"
