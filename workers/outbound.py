"""The send actor: deliver one outbound row through its connector, once (contract §4)."""

from __future__ import annotations

import dramatiq
import structlog

from omnidesk.db import unit_of_work
from omnidesk.errors import PermanentSendError, TransientError
from omnidesk.models import Message
from omnidesk.outbound import SendResult
from omnidesk.services import send
from workers import runtime
from workers.dispatch import DramatiqDispatcher

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="send", max_retries=0)
def send_reply(message_id: int) -> None:
    """Claim the row, call the provider, record the outcome; transient failures come back later."""
    settings = runtime.settings()
    with unit_of_work(settings) as session:
        claimed = send.claim(session, message_id, runtime.stuck_after())
        connector_id = session.get(Message, message_id).connector_id if claimed else None  # type: ignore[union-attr]
    if claimed is None:
        return
    reply, resumed = claimed
    connector = runtime.desk().connector_for_id(connector_id)  # type: ignore[arg-type]
    try:
        if connector is None:
            raise PermanentSendError("connector_missing", "the connector is no longer configured")
        result = _already_sent(connector, reply) if resumed else None
        result = result or connector.send(reply)
    except TransientError as exc:
        with unit_of_work(settings) as session:
            delay = send.defer(session, message_id, exc.code, exc.reason, runtime.retry_policy())
        log.warning("reply_retry", error=exc.reason, code=exc.code, retry_in_ms=delay)
        if delay is not None:
            DramatiqDispatcher().dispatch("send", message_id, delay_ms=delay)
        return
    except PermanentSendError as exc:
        with unit_of_work(settings) as session:
            send.mark_failed(session, message_id, exc.code, exc.reason)
        log.warning("reply_failed", code=exc.code, error=exc.reason)
        return
    with unit_of_work(settings) as session:
        send.mark_sent(session, message_id, result)
    log.info("reply_sent", provider_message_id=result.provider_message_id)


def _already_sent(connector: object, reply: send.OutboundReply) -> SendResult | None:
    """A send was interrupted: ask the provider whether it has the message before sending again."""
    find_sent = getattr(connector, "find_sent", None)
    if find_sent is None:
        raise PermanentSendError(
            "send_interrupted",
            "the worker stopped while sending and this channel cannot tell whether the provider "
            "got it; check with the customer before sending again",
        )
    return find_sent(reply)  # type: ignore[no-any-return]
