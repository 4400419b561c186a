"""Every actor, and the stage-name → actor map the dispatcher and sweeper use."""

from __future__ import annotations

import dramatiq

from workers.feedback import open_complaint_follow_ups, send_survey, send_surveys
from workers.media import keep_media
from workers.outbound import send_reply
from workers.pipeline import (
    classify_request,
    ingest_message,
    record_outcome,
    respond_to_request,
    route_request,
)
from workers.schedule import retrain_classifier, sweep_stuck, watch_sla

STAGE_ACTORS: dict[str, dramatiq.Actor] = {
    "ingest": ingest_message,
    "classify": classify_request,
    "route": route_request,
    "respond": respond_to_request,
    "record": record_outcome,
    "send": send_reply,
    "survey": send_survey,
}

ALL_ACTORS: tuple[dramatiq.Actor, ...] = (
    *STAGE_ACTORS.values(),
    sweep_stuck,
    watch_sla,
    retrain_classifier,
    send_surveys,
    open_complaint_follow_ups,
    keep_media,
)

__all__ = ["ALL_ACTORS", "STAGE_ACTORS", "send_reply", "sweep_stuck"]
