"""Follow-up actors: send a survey now, send the due ones, open complaint follow-ups.

`send_survey` is the "survey" entry of the dispatcher's map (a resolution with no survey delay
enqueues it); `send_surveys` and `open_complaint_follow_ups` run from the scheduler (`jobs`).
All three are idempotent: they lock their rows and skip what another run already decided.
"""

from __future__ import annotations

import dramatiq
import structlog

from omnidesk.db import unit_of_work
from omnidesk.errors import ConfigError
from omnidesk.services import follow_ups, surveys
from omnidesk.services.survey_links import LinkSigner
from omnidesk.settings import Settings
from workers import runtime
from workers.dispatch import dispatch_all

log = structlog.get_logger(__name__)

SURVEY_INTERVAL_SECONDS = 30.0
COMPLAINT_FOLLOW_UP_INTERVAL_SECONDS = 300.0


def _signer(settings: Settings) -> LinkSigner | None:
    """The email link signer, or None (email surveys are then skipped with the reason)."""
    try:
        return LinkSigner.from_settings(settings)
    except ConfigError as exc:
        log.warning("survey_links_unavailable", error=str(exc))
        return None


@dramatiq.actor(queue_name="send", max_retries=3)
def send_survey(survey_id: int) -> None:
    """Decide one survey now (a resolution without delay): queue it, defer it or skip it."""
    settings = runtime.settings()
    config, signer = runtime.desk().config, _signer(settings)
    with unit_of_work(settings) as session:
        tasks = surveys.send_one(session, survey_id, config, signer)
    dispatch_all(tasks)


@dramatiq.actor(queue_name="schedule", max_retries=0)
def send_surveys() -> None:
    """Decide every due survey, and close those whose answer window has passed."""
    settings = runtime.settings()
    config, signer = runtime.desk().config, _signer(settings)
    with unit_of_work(settings) as session:
        tasks = surveys.send_due(session, config, signer)
        expired = surveys.expire_unanswered(session)
    if tasks or expired:
        log.info("surveys_sent", queued=len(tasks), expired=expired)
    dispatch_all(tasks)


@dramatiq.actor(queue_name="schedule", max_retries=0)
def open_complaint_follow_ups() -> None:
    """A follow-up task for each complaint resolved `complaint_follow_up_days` ago."""
    with unit_of_work(runtime.settings()) as session:
        opened = follow_ups.open_complaint_follow_ups(session, runtime.desk().config)
    if opened:
        log.info("complaint_follow_ups_opened", follow_ups=opened)


def jobs(settings: Settings) -> list[tuple[dramatiq.Actor, float]]:
    """The scheduler's entries for these actors (added to `schedule.default_jobs`)."""
    return [
        (send_surveys, SURVEY_INTERVAL_SECONDS),
        (open_complaint_follow_ups, COMPLAINT_FOLLOW_UP_INTERVAL_SECONDS),
    ]
