"""Survey answers: a customer's reply or an email link's click, stored as the request's rating.

A reply is an answer when it comes from the identity the survey was sent to, within the survey's
answer window, and `parse_rating` reads a score in it; it then joins the surveyed request as an
automatic "survey_answer" message, so it is neither acknowledged nor a new request. A rating is
a "rated" event (the reports count each survey's latest) and, when low or complaining, a
follow-up task for the team's lead.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from omnidesk.models import Direction, Identity, Message, Request, Survey, SurveyStatus, utcnow
from omnidesk.services import events, follow_ups
from omnidesk.services.ratings import MAX_COMMENT, parse_rating
from omnidesk.services.survey_links import ExpiredLink, InvalidLink, LinkSigner

ANSWERABLE = (SurveyStatus.SENT, SurveyStatus.ANSWERED)


def answer_from_message(session: Session, message: Message, identity: Identity) -> bool:
    """If `message` rates the survey its sender was sent, attach it to the surveyed request as
    an automatic "survey_answer" (no acknowledgement, no new request), record the rating and
    return True. Anything else (a question, an order number, no survey) returns False."""
    if message.automatic or message.direction != Direction.INBOUND or identity.id is None:
        return False
    now = utcnow()
    stmt = (
        select(Survey)
        .where(Survey.identity_id == identity.id, col(Survey.status).in_(ANSWERABLE))
        .where(col(Survey.expires_at) > now)
        .order_by(col(Survey.sent_at).desc())
        .with_for_update()
    )
    survey = session.exec(stmt).first()
    rating = parse_rating(message.text, survey.language) if survey else None
    if survey is None or rating is None:
        return False
    message.request_id, message.automatic = survey.request_id, "survey_answer"
    session.add(message)
    events.record(
        session,
        "message_attached",
        request_id=survey.request_id,
        message_id=message.id,
        how="survey_answer",
    )
    request = session.get(Request, survey.request_id)
    if request is not None:
        request.last_message_at = message.received_at or now
        session.add(request)
    record_answer(session, survey, *rating, via="message", message_id=message.id, now=now)
    return True


def survey_for_link(
    session: Session,
    signer: LinkSigner,
    token: str,
    now: datetime | None = None,
    *,
    lock: bool = False,
) -> Survey:
    """The survey a genuine, unexpired link names.

    Raises:
        InvalidLink: altered, or naming no survey (or an older link of it).
        ExpiredLink: genuine but past its time, or the survey is closed.
    """
    survey_id, token_id = signer.read(token, now)
    survey = session.get(Survey, survey_id, with_for_update=lock)
    if survey is None or survey.token_id is None or survey.token_id != token_id:
        raise InvalidLink("no such survey link")
    if survey.status not in ANSWERABLE:
        raise ExpiredLink(f"the survey is {survey.status}")
    return survey


def answer_from_link(
    session: Session,
    signer: LinkSigner,
    token: str,
    score: int,
    comment: str | None = None,
    now: datetime | None = None,
) -> tuple[Survey, bool]:
    """Record a link's rating (a comment left out keeps the one given before); returns the
    survey and whether anything changed (a second identical click changes nothing)."""
    survey = survey_for_link(session, signer, token, now, lock=True)
    changed = record_answer(session, survey, score, comment or survey.comment, via="link", now=now)
    return survey, changed


def record_answer(
    session: Session,
    survey: Survey,
    score: int,
    comment: str | None,
    *,
    via: str,
    message_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Store the rating as the request's, with a "rated" event, and open a follow-up when it is
    low or the comment complains. The same answer again changes nothing (returns False); a new
    one replaces it (the reports count each survey's latest "rated")."""
    if not 1 <= score <= 5:
        raise ValueError(f"a score is 1 to 5, not {score}")
    if survey.status not in ANSWERABLE:
        raise ValueError(f"survey #{survey.id} is {survey.status}: it takes no answer")
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    if survey.status == SurveyStatus.ANSWERED and (survey.score, survey.comment) == (
        score,
        comment,
    ):
        return False
    now = now or utcnow()
    survey.status, survey.score, survey.comment = SurveyStatus.ANSWERED, score, comment
    survey.answered_at = survey.updated_at = now
    survey.answered_via = via
    survey.answer_message_id = message_id or survey.answer_message_id
    session.add(survey)
    events.record(
        session,
        "rated",
        request_id=survey.request_id,
        message_id=message_id,
        customer_id=survey.customer_id,
        actor="customer",
        score=score,
        comment=comment,
        survey_id=survey.id,
        via=via,
    )
    follow_ups.for_answer(session, survey, now)
    return True
