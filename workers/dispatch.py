"""DramatiqDispatcher: the core's Dispatcher port, enqueueing by stage name."""

from __future__ import annotations

from collections.abc import Iterable

from omnidesk.services.pipeline import Task


class DramatiqDispatcher:
    """Maps a stage name ("ingest" … "record", "send") to its actor and enqueues the id."""

    def dispatch(self, stage: str, message_id: int, delay_ms: int = 0) -> None:
        from workers.actors import STAGE_ACTORS

        STAGE_ACTORS[stage].send_with_options(args=(message_id,), delay=delay_ms or None)


def dispatch_all(tasks: Iterable[Task]) -> None:
    dispatcher = DramatiqDispatcher()
    for task in tasks:
        dispatcher.dispatch(task.stage, task.message_id)
