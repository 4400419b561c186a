"""Satisfaction surveys (回访): scheduled on resolution, decided at send time, answered by a reply
or an email link, each step an event.

At send time a survey is skipped, with the reason in the request's events ("survey_skipped"),
when the request was reopened, the customer opted out (STOP, 退订, unsubscribe on any of their
identities), they were surveyed within `survey_every_days`, or it is a WeChat or Weibo request
whose customer last wrote more than the provider's 48 h ago (those providers refuse messages
outside that window, so it is never tried). In quiet hours it waits for their end, in the
team's time zone. A phone request is surveyed by SMS through its Twilio connector (a call's
request has the channel "twilio" and the caller's number as sender). Answers are read in
`survey_answers` (re-exported here, so callers need only this module).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlmodel import Session, col, select

from omnidesk.config_file import DeskConfig
from omnidesk.models import (
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    Request,
    Survey,
    SurveyStatus,
    utcnow,
)
from omnidesk.services import events, sla, survey_policy, survey_text
from omnidesk.services.pipeline import SEND, Task
from omnidesk.services.ratings import parse_rating
from omnidesk.services.survey_answers import (
    answer_from_link,
    answer_from_message,
    record_answer,
    survey_for_link,
)
from omnidesk.services.survey_links import ExpiredLink, InvalidLink, LinkSigner

__all__ = [
    "SURVEY",
    "ExpiredLink",
    "InvalidLink",
    "LinkSigner",
    "answer_from_link",
    "answer_from_message",
    "expire_unanswered",
    "on_resolved",
    "parse_rating",
    "record_answer",
    "send_due",
    "send_one",
    "survey_for_link",
]

log = structlog.get_logger(__name__)

SURVEY = "survey"  # the Task stage that sends one survey now (workers: send_survey)
ANSWER_WINDOW = timedelta(days=7)
BATCH = 200


def on_resolved(
    session: Session, request: Request, config: DeskConfig, now: datetime | None = None
) -> list[Task]:
    """Schedule the request's survey; with no delay, return the task that sends it now."""
    now = now or utcnow()
    delay = config.follow_up.delay
    survey = session.exec(
        select(Survey).where(
            Survey.request_id == request.id, Survey.status == SurveyStatus.SCHEDULED
        )
    ).first() or _new_survey(session, request, config)
    survey.scheduled_for = survey.updated_at = now + delay
    session.add(survey)
    session.flush()
    events.record(
        session,
        "survey_scheduled",
        request_id=request.id,
        survey_id=survey.id,
        scheduled_for=survey.scheduled_for.isoformat(),
    )
    if request.complaint_ref:
        due = now + timedelta(days=config.follow_up.complaint_follow_up_days)
        events.record(
            session,
            "follow_up_scheduled",
            request_id=request.id,
            kind="complaint",
            due_at=due.isoformat(),
        )
    return [Task(SURVEY, survey.id)] if not delay else []  # type: ignore[arg-type]


def _new_survey(session: Session, request: Request, config: DeskConfig) -> Survey:
    target = _target_message(session, request.id)  # type: ignore[arg-type]
    return Survey(
        request_id=request.id,  # type: ignore[arg-type]
        customer_id=request.customer_id,
        identity_id=target.identity_id if target else None,
        connector_id=target.connector_id if target else request.connector_id,
        channel=request.channel,
        language=_language(session, request, config),
        scheduled_for=utcnow(),
    )


def _language(session: Session, request: Request, config: DeskConfig) -> str:
    customer = session.get(Customer, request.customer_id)
    preferred = (request.language, customer.language if customer else None)
    for language in (*preferred, config.desk.default_language):
        if language in survey_text.SCORE_LABELS:
            return str(language)
    return "zh"


def _target_message(session: Session, request_id: int) -> Message | None:
    """The customer's last own message: the survey goes to its sender through its connector."""
    stmt = (
        select(Message)
        .where(Message.request_id == request_id, Message.direction == Direction.INBOUND)
        .where(col(Message.sender).is_not(None))
        .order_by(col(Message.automatic).is_not(None), col(Message.id).desc())
    )
    return session.exec(stmt).first()


# -- sending -------------------------------------------------------------------------------------


def send_due(
    session: Session, config: DeskConfig, signer: LinkSigner | None, now: datetime | None = None
) -> list[Task]:
    """Decide every survey that is due; returns the outbound rows to send (after commit)."""
    now = now or utcnow()
    stmt = (
        select(Survey)
        .where(Survey.status == SurveyStatus.SCHEDULED, col(Survey.scheduled_for) <= now)
        .order_by(col(Survey.scheduled_for))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    tasks: list[Task] = []
    for survey in session.exec(stmt).all():
        tasks += _decide(session, survey, config, signer, now)
    return tasks


def send_one(
    session: Session,
    survey_id: int,
    config: DeskConfig,
    signer: LinkSigner | None,
    now: datetime | None = None,
) -> list[Task]:
    """Decide one survey now if it is still scheduled and due (a repeat changes nothing)."""
    now = now or utcnow()
    survey = session.get(Survey, survey_id, with_for_update=True)
    if survey is None or survey.status != SurveyStatus.SCHEDULED or survey.scheduled_for > now:
        return []
    return _decide(session, survey, config, signer, now)


def _decide(
    session: Session,
    survey: Survey,
    config: DeskConfig,
    signer: LinkSigner | None,
    now: datetime,
) -> list[Task]:
    request = session.get(Request, survey.request_id)
    target = _target_message(session, survey.request_id)
    reason = survey_policy.skip_reason(session, survey, request, target, config.follow_up, now)
    if reason is None and survey.channel in survey_text.EMAIL_CHANNELS and signer is None:
        reason = "no_link_key"
    if reason is not None:
        _skip(session, survey, reason, now)
        return []
    assert request is not None
    assert target is not None
    zone = sla.hours_of(session, config, request.team).zone
    wait = survey_policy.quiet_until(now, config.follow_up.quiet, zone)
    if wait is not None:
        survey.scheduled_for = survey.updated_at = wait
        session.add(survey)
        events.record(
            session,
            "survey_deferred",
            request_id=request.id,
            survey_id=survey.id,
            until=wait.isoformat(),
            reason="quiet_hours",
        )
        return []
    message = _queue(session, survey, request, target, config, signer, now)
    return [Task(SEND, message.id)]  # type: ignore[arg-type]


def _skip(session: Session, survey: Survey, reason: str, now: datetime) -> None:
    survey.status, survey.skip_reason, survey.updated_at = SurveyStatus.SKIPPED, reason, now
    session.add(survey)
    events.record(
        session,
        "survey_skipped",
        request_id=survey.request_id,
        survey_id=survey.id,
        channel=survey.channel,
        reason=reason,
    )
    log.info("survey_skipped", request_id=survey.request_id, reason=reason)


def _queue(
    session: Session,
    survey: Survey,
    request: Request,
    target: Message,
    config: DeskConfig,
    signer: LinkSigner | None,
    now: datetime,
) -> Message:
    """The survey as a pending outbound row to the customer's last address (contract §4)."""
    survey.expires_at = now + ANSWER_WINDOW
    links = None
    if survey.channel in survey_text.EMAIL_CHANNELS and signer is not None:
        survey.token_id = signer.new_token_id()
        token = signer.token(survey.id, survey.token_id, survey.expires_at)  # type: ignore[arg-type]
        links = {score: signer.url(token, score) for score in range(1, 6)}
    english = survey.language == "en"
    values = {
        "request_id": request.id,
        "days": ANSWER_WINDOW.days,
        "desk_name": config.desk.name_en if english else config.desk.name,
    }
    base = config.path.parent / "templates" if config.path else None
    text = survey_text.build(survey.channel, survey.language, values, links, base)
    message = Message(
        connector_id=target.connector_id,
        channel=target.channel,
        direction=Direction.OUTBOUND,
        kind="survey",
        author="system",
        request_id=request.id,
        customer_id=request.customer_id,
        identity_id=target.identity_id,
        recipient=target.sender,
        sender=target.recipient,
        subject=text.subject or request.subject,
        text=text.text,
        html=text.html,
        thread={
            "in_reply_to": target.provider_message_id,
            "references": (target.thread or {}).get("references", []),
        },
        status=DeliveryStatus.PENDING,
    )
    session.add(message)
    session.flush()
    survey.status, survey.sent_at, survey.updated_at = SurveyStatus.SENT, now, now
    survey.identity_id, survey.outbound_message_id = target.identity_id, message.id
    session.add(survey)
    events.record(
        session,
        "reply_queued",
        request_id=request.id,
        message_id=message.id,
        kind="survey",
        author="system",
        in_reply_to=target.id,
    )
    events.record(
        session,
        "survey_sent",
        request_id=request.id,
        message_id=message.id,
        channel=survey.channel,
        survey_id=survey.id,
    )
    return message


def expire_unanswered(session: Session, now: datetime | None = None) -> int:
    """Close the surveys whose answer window passed without an answer."""
    now = now or utcnow()
    stmt = (
        select(Survey)
        .where(Survey.status == SurveyStatus.SENT, col(Survey.expires_at) < now)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    expired = session.exec(stmt).all()
    for survey in expired:
        survey.status, survey.updated_at = SurveyStatus.EXPIRED, now
        session.add(survey)
        events.record(session, "survey_expired", request_id=survey.request_id, survey_id=survey.id)
    return len(expired)
