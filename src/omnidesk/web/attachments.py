"""GET /api/v1/messages/{id}/attachments/{n}: a stored attachment's bytes, for the agent's eyes.

Connectors keep attachment bytes by SHA-256 under `{data_dir}/attachments/ab/abcdef…` and
record `storage_key = "sha256:<digest>"` (the email connector's AttachmentStore). Customer files
are untrusted: only images, audio and video are shown inline; everything else downloads, never
sniffed, and sandboxed should a browser render it anyway.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from omnidesk.api.deps import CurrentAgent, SessionDep, visible_request
from omnidesk.models import Message

INLINE_TYPES = re.compile(r"^(image/(png|jpeg|gif|webp)|audio/[\w.+-]+|video/[\w.+-]+)$")
STORAGE_KEY = re.compile(r"^sha256:([0-9a-f]{64})$")
UNTRUSTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
}

router = APIRouter(tags=["web"])


def stored_path(data_dir: Path, storage_key: str | None) -> Path | None:
    """Where the bytes of a storage key live, if they are there."""
    match = STORAGE_KEY.match(storage_key or "")
    if match is None:
        return None
    digest = match[1]
    path = data_dir / "attachments" / digest[:2] / digest
    return path if path.is_file() else None


@router.get("/api/v1/messages/{message_id}/attachments/{index}", response_class=FileResponse)
def attachment(
    message_id: int, index: int, me: CurrentAgent, session: SessionDep, request: Request
) -> FileResponse:
    """One attachment of a message the agent may see (404 when its bytes were not kept)."""
    message = session.get(Message, message_id)
    if message is None or not 0 <= index < len(message.attachments):
        raise HTTPException(404, "no such attachment")
    if message.request_id is not None:
        visible_request(session, message.request_id, me)
    elif not me.sees_all:
        raise HTTPException(403, "not_your_teams_request")
    meta = message.attachments[index]
    path = stored_path(request.app.state.settings.data_dir, meta.get("storage_key"))
    if path is None:
        raise HTTPException(404, "the attachment's bytes were not kept")
    content_type = str(meta.get("content_type") or "application/octet-stream").lower()
    inline = INLINE_TYPES.match(content_type) is not None
    return FileResponse(
        path,
        media_type=content_type if inline else "application/octet-stream",
        filename=str(meta.get("filename") or f"attachment-{index}"),
        content_disposition_type="inline" if inline else "attachment",
        headers=UNTRUSTED_HEADERS,
    )
