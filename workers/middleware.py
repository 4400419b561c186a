"""Cross-cutting actor policy: bind ids to every log line of a task."""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog


class LogContext(dramatiq.Middleware):
    """Binds the actor name and the message id (the actor's only argument) to structlog."""

    def before_process_message(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any]
    ) -> None:
        structlog.contextvars.clear_contextvars()
        bound: dict[str, Any] = {"actor": message.actor_name, "task_id": message.message_id}
        if message.args:
            bound["message_id"] = message.args[0]
        structlog.contextvars.bind_contextvars(**bound)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message[Any],
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        structlog.contextvars.clear_contextvars()

    after_skip_message = after_process_message
