"""Media the provider keeps (an MMS picture, a WeChat voice, a call recording), fetched with the
connector's credentials right after ingest or when an agent first opens it, then kept by digest.

Both ways, on purpose. `ensure_stored` runs on first view (web.attachments): it always works,
whatever happened before, and a provider that is slow or down delays only the one picture an
agent is looking at, never a message or a pipeline stage. `prefetch` runs right after ingest
in its own actor (workers.media), off the pipeline's path: WeChat forgets media after 3 days,
and a request opened after a long weekend must still show its picture. Both are idempotent:
whichever comes second finds the bytes kept (two at once store the same digest twice, no harm).

Bytes live under `{data_dir}/attachments/ab/abcdef…` with `storage_key = "sha256:<digest>"`, as
the email connector keeps its attachments, so every attachment is served the same way. The
browser only ever sees our URL: provider credentials and access tokens stay on the server.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from omnidesk.db import read_session, unit_of_work
from omnidesk.errors import MediaUnavailable
from omnidesk.inbound import Attachment
from omnidesk.models import Message

if TYPE_CHECKING:
    from omnidesk.desk import Desk

log = structlog.get_logger(__name__)

DEFAULT_MAX_MEDIA_BYTES = 25 * 1024 * 1024  # the email connector's attachment default
STORAGE_KEY = re.compile(r"^sha256:([0-9a-f]{64})$")
MEDIA_TYPE = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")


def stored_path(data_dir: Path, storage_key: str | None) -> Path | None:
    """Where the bytes of a storage key live, if they are there."""
    match = STORAGE_KEY.match(storage_key or "")
    if match is None:
        return None
    digest = match[1]
    path = data_dir / "attachments" / digest[:2] / digest
    return path if path.is_file() else None


def store(data_dir: Path, data: bytes) -> str:
    """Keep the bytes by digest (idempotent, atomic); return the storage key."""
    digest = hashlib.sha256(data).hexdigest()
    path = data_dir / "attachments" / digest[:2] / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{digest}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(data)
        os.replace(partial, path)
    return f"sha256:{digest}"


def ensure_stored(
    desk: Desk, message_id: int, index: int, max_bytes: int = DEFAULT_MAX_MEDIA_BYTES
) -> dict[str, Any]:
    """The attachment's metadata with its bytes kept here, fetching them if need be.

    Raises:
        MediaUnavailable: nothing to fetch (`not_kept`), or the provider's refusal.
        TransientError: the provider cannot be reached now.
    """
    with read_session(desk.settings) as session:
        message = session.get(Message, message_id)
        if message is None or not 0 <= index < len(message.attachments):
            raise MediaUnavailable("not_found", "no such attachment")
        meta, connector_id = dict(message.attachments[index]), message.connector_id
    if stored_path(desk.settings.data_dir, meta.get("storage_key")) is not None:
        return meta
    data, content_type = _fetch(desk, connector_id, meta, max_bytes)
    key = store(desk.settings.data_dir, data)
    update = {"storage_key": key, "size": len(data)}
    # The connector's type stands (it read the push); the provider's fills in an unknown one.
    known = meta.get("content_type") not in (None, "", "application/octet-stream")
    if not known and MEDIA_TYPE.match(content_type):
        update["content_type"] = content_type
    with unit_of_work(desk.settings) as session:
        message = session.get(Message, message_id, with_for_update=True)
        assert message is not None
        attachments = [dict(a) for a in message.attachments]
        attachments[index] = {**attachments[index], **update}
        message.attachments = attachments
        session.add(message)
    log.info("media_fetched", message_id=message_id, index=index, size=len(data))
    return {**meta, **update}


def prefetch(desk: Desk, message_id: int, max_bytes: int = DEFAULT_MAX_MEDIA_BYTES) -> int:
    """Keep now every attachment of a message that the provider holds; returns how many were
    fetched. A refusal is logged, not raised: the agent sees its reason when opening it.

    Raises:
        TransientError: the provider cannot be reached now (the caller retries later).
    """
    with read_session(desk.settings) as session:  # most messages hold none: no write lock
        message = session.get(Message, message_id)
        held = [
            index
            for index, meta in enumerate(message.attachments if message else [])
            if (meta.get("url") or meta.get("content_id"))
            and stored_path(desk.settings.data_dir, meta.get("storage_key")) is None
        ]
    kept = 0
    for index in held:
        try:
            ensure_stored(desk, message_id, index, max_bytes)
            kept += 1
        except MediaUnavailable as exc:
            log.info("media_unavailable", message_id=message_id, index=index, code=exc.code)
    return kept


def _fetch(
    desk: Desk, connector_id: int, meta: dict[str, Any], max_bytes: int
) -> tuple[bytes, str]:
    if not (meta.get("url") or meta.get("content_id")):
        raise MediaUnavailable("not_kept", "the attachment's bytes were not kept")
    connector = desk.connector_for_id(connector_id)
    fetch = getattr(connector, "fetch_media", None)
    if connector is None or not callable(fetch):
        raise MediaUnavailable("not_kept", "its connector cannot fetch media")
    known = {k: v for k, v in meta.items() if k in Attachment.model_fields and v is not None}
    attachment = Attachment.model_validate(known)
    data, content_type = fetch(attachment, max_bytes)
    if len(data) > max_bytes:
        raise MediaUnavailable("media_too_large", f"the media is larger than {max_bytes} bytes")
    return data, content_type.split(";")[0].strip().lower()


def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """A provider's streamed media body, refusing to read past `max_bytes` (whatever
    Content-Length claims)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise MediaUnavailable("media_too_large", f"the media is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
