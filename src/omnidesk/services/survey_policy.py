"""Whether a due survey may go out now: the rules, each with the reason recorded when not.

Skipped: the request was reopened, the channel has no survey, nobody to send to, the customer
opted out (any of their identities), a survey reached them within `survey_every_days`, or a
WeChat or Weibo customer last wrote longer ago than the provider's reply window (48 h; Weibo's
connector may set it shorter): those providers refuse such messages, so none is tried.
Deferred: quiet hours, in the team's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from omnidesk.models import (
    ConnectorRecord,
    Customer,
    Direction,
    Identity,
    Message,
    Request,
    RequestStatus,
    Survey,
)
from omnidesk.services import send, survey_text
from omnidesk.services.feedback_config import FollowUpConfig

REPLY_WINDOWS = {"wechat": timedelta(hours=48), "weibo": timedelta(hours=48)}
WINDOW_MARGIN = timedelta(minutes=5)  # the send actor may retry: leave it some of the window


def skip_reason(
    session: Session,
    survey: Survey,
    request: Request | None,
    target: Message | None,
    policy: FollowUpConfig,
    now: datetime,
) -> str | None:
    """Why this survey must not go out (None: it may)."""
    if request is None:
        return "request_missing"
    if request.status not in (RequestStatus.RESOLVED, RequestStatus.CLOSED):
        return "reopened"
    if survey.channel not in survey_text.SURVEYED_CHANNELS:
        return "channel_unsupported"
    if target is None:
        return "no_recipient"
    if opted_out(session, survey.customer_id):
        return "opted_out"
    if _surveyed_recently(session, survey, policy.survey_every_days, now):
        return "surveyed_recently"
    if not _inside_reply_window(session, survey, target, now):
        return "outside_reply_window"
    return None


def opted_out(session: Session, customer_id: int) -> bool:
    """Whether any identity of the customer (or of customers merged into them) opted out."""
    merged = select(Customer.id).where(Customer.merged_into_id == customer_id)
    stmt = select(Identity.id).where(
        (Identity.customer_id == customer_id) | col(Identity.customer_id).in_(merged),
        col(Identity.opted_out).is_(True),
    )
    return session.exec(stmt).first() is not None


def _surveyed_recently(session: Session, survey: Survey, every_days: int, now: datetime) -> bool:
    if every_days <= 0:
        return False
    stmt = select(Survey.id).where(
        Survey.customer_id == survey.customer_id,
        Survey.id != survey.id,
        col(Survey.sent_at) >= now - timedelta(days=every_days),
    )
    return session.exec(stmt).first() is not None


def _inside_reply_window(session: Session, survey: Survey, target: Message, now: datetime) -> bool:
    """WeChat and Weibo take messages only so long after the customer's last one (send.py's
    `last_inbound_at`: their own messages to this connector, automatic ones not counted)."""
    window = REPLY_WINDOWS.get(survey.channel)
    if window is None:
        return True
    record = session.get(ConnectorRecord, target.connector_id)
    hours = (record.config or {}).get("reply_window_hours") if record else None
    if isinstance(hours, int) and hours > 0:
        window = min(window, timedelta(hours=hours))
    draft = Message(
        connector_id=target.connector_id,
        channel=target.channel,
        direction=Direction.OUTBOUND,
        recipient=target.sender,
    )
    last = send.last_inbound_at(session, draft)
    if last is None:
        return False
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    return now - last <= window - WINDOW_MARGIN


def quiet_until(now: datetime, quiet: tuple[time, time] | None, zone: ZoneInfo) -> datetime | None:
    """The end of the quiet window `now` falls in (UTC), or None outside it."""
    if quiet is None:
        return None
    start, end = quiet
    local = now.astimezone(zone)
    moment = local.time()
    inside = start <= moment < end if start < end else (moment >= start or moment < end)
    if not inside:
        return None
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
