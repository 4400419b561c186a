"""The pipeline actors, one per stage (order: omnidesk.services.pipeline.STAGES).

Each takes a message id, runs its stage once inside one transaction, then enqueues what follows.
Slow work (the classifier, order-system and knowledge lookups, the chat bot's) runs before that
transaction, with none open: it never holds the database's write lock (DESIGN.md, contract §6).
"""

from __future__ import annotations

import dramatiq
from sqlmodel import Session

from omnidesk.db import read_session, unit_of_work
from omnidesk.models import Message
from omnidesk.services import classify, ingest, record, respond, route
from omnidesk.services.answers import Lookup, PrefetchedAnswers
from omnidesk.services.pipeline import Task, plan_stage, run_stage
from workers import runtime
from workers.dispatch import dispatch_all
from workers.media import keep_media


@dramatiq.actor(queue_name="ingest")
def ingest_message(message_id: int) -> None:
    """Stage 1: resolve the customer and attach the message to its request."""
    with unit_of_work(runtime.settings()) as session:
        tasks = run_stage(session, "ingest", message_id, ingest.run)
    dispatch_all(tasks)
    keep_media.send(message_id)  # provider-held media, fetched off the pipeline's path


@dramatiq.actor(queue_name="classify")
def classify_request(message_id: int) -> None:
    """Stage 2: label the message's request (category, priority, language)."""
    labeller, settings = runtime.labeller(), runtime.settings()
    with read_session(settings) as session:
        asked = plan_stage(session, "classify", message_id, classify.question)
    label = labeller.label(*asked) if asked else None  # the model: no transaction open
    with unit_of_work(settings) as session:
        tasks = run_stage(session, "classify", message_id, lambda s, m: classify.apply(s, m, label))
    dispatch_all(tasks)


@dramatiq.actor(queue_name="route")
def route_request(message_id: int) -> None:
    """Stage 3: give the request its team."""
    config = runtime.desk().config
    with unit_of_work(runtime.settings()) as session:
        tasks = run_stage(session, "route", message_id, lambda s, m: route.run(s, m, config))
    dispatch_all(tasks)


@dramatiq.actor(queue_name="respond")
def respond_to_request(message_id: int) -> None:
    """Stage 4: queue the automatic answer as an outbound row."""
    desk, answerer, settings = runtime.desk(), runtime.answerer(), runtime.settings()

    def limit_of(message: Message) -> int | None:
        connector = desk.connector_for_id(message.connector_id)
        return getattr(getattr(connector, "config", None), "auto_reply_limit_per_day", None)

    def plan(session: Session, message: Message) -> list[Lookup]:
        return respond.lookups(session, message, desk.config, limit_of(message))

    def body(session: Session, message: Message) -> list[Task]:
        limit = limit_of(message)
        return respond.run(session, message, desk.config, answers, auto_reply_limit=limit)

    with read_session(settings) as session:
        chain = plan_stage(session, "respond", message_id, plan)
    answers = PrefetchedAnswers.fetch(answerer, chain or [])  # HTTP and retrieval: no transaction
    with unit_of_work(settings) as session:
        tasks = run_stage(session, "respond", message_id, body)
    dispatch_all(tasks)


@dramatiq.actor(queue_name="record")
def record_outcome(message_id: int) -> None:
    """Stage 5: close the message's journey in the event log."""
    with unit_of_work(runtime.settings()) as session:
        tasks = run_stage(session, "record", message_id, record.run)
    dispatch_all(tasks)
