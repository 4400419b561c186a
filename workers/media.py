"""keep_media: fetch the media a provider holds for a message right after ingest (services.media).

Off the pipeline's path (its own queue), so a slow provider never holds a stage up; a provider
that cannot be reached is retried with backoff, and whatever is still missing is fetched when
an agent first opens it.
"""

from __future__ import annotations

import dramatiq

from omnidesk.services import media
from workers import runtime


@dramatiq.actor(queue_name="media", max_retries=5, min_backoff=5_000, max_backoff=300_000)
def keep_media(message_id: int) -> None:
    """Keep every provider-held attachment of the message (WeChat forgets them in 3 days)."""
    media.prefetch(runtime.desk(), message_id)
