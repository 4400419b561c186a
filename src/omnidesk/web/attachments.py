"""GET /api/v1/messages/{id}/attachments/{n}: an attachment's bytes, for the agent's eyes.

Connectors keep attachment bytes by SHA-256 under `{data_dir}/attachments/ab/abcdef…` and
record `storage_key = "sha256:<digest>"` (the email connector's AttachmentStore). Media the
provider keeps (MMS, WeChat and Weibo media, call recordings) is fetched here on first view
with the connector's credentials (omnidesk.services.media); the browser never sees them.
Customer files are untrusted: only images, audio and video are shown inline; everything else
downloads, never sniffed, and sandboxed should a browser render it anyway.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from omnidesk.api.deps import CurrentAgent, Principal, desk_of, visible_request
from omnidesk.db import read_session
from omnidesk.errors import MediaUnavailable, TransientError
from omnidesk.models import Message
from omnidesk.services import media
from omnidesk.services.media import stored_path
from omnidesk.services.problems import Rejected

INLINE_TYPES = re.compile(r"^(image/(png|jpeg|gif|webp)|audio/[\w.+-]+|video/[\w.+-]+)$")
UNTRUSTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
}
# 404: nothing to show (never kept, or the provider no longer has it); 502: the provider
# refused or failed us, which an admin may have to look at.
STATUS = {"not_found": 404, "not_kept": 404, "media_expired": 404, "media_not_found": 404,
          "media_too_large": 404, "media_refused": 502}  # fmt: skip

router = APIRouter(tags=["web"])

__all__ = ["router", "stored_path"]


@router.get("/api/v1/messages/{message_id}/attachments/{index}", response_class=FileResponse)
def attachment(message_id: int, index: int, me: CurrentAgent, request: Request) -> FileResponse:
    """One attachment of a message the agent may see (404 when its bytes are not to be had).

    No transaction stays open across a provider fetch: the checks read, then let go.
    """
    data_dir = request.app.state.settings.data_dir
    meta = _visible_attachment(request, message_id, index, me)
    path = stored_path(data_dir, meta.get("storage_key"))
    if path is None:
        meta = _fetched(request, message_id, index)
        path = stored_path(data_dir, meta.get("storage_key"))
        assert path is not None
    content_type = str(meta.get("content_type") or "application/octet-stream").lower()
    inline = INLINE_TYPES.match(content_type) is not None
    return FileResponse(
        path,
        media_type=content_type if inline else "application/octet-stream",
        filename=str(meta.get("filename") or f"attachment-{index}"),
        content_disposition_type="inline" if inline else "attachment",
        headers=UNTRUSTED_HEADERS,
    )


def _visible_attachment(
    request: Request, message_id: int, index: int, me: Principal
) -> dict[str, Any]:
    with read_session(request.app.state.settings) as session:
        message = session.get(Message, message_id)
        if message is None or not 0 <= index < len(message.attachments):
            raise HTTPException(404, "no such attachment")
        if message.request_id is not None:
            visible_request(session, message.request_id, me)
        elif not me.sees_all:
            raise HTTPException(403, "not_your_teams_request")
        return dict(message.attachments[index])


def _fetched(request: Request, message_id: int, index: int) -> dict[str, Any]:
    try:
        return media.ensure_stored(desk_of(request), message_id, index)
    except MediaUnavailable as exc:
        raise Rejected.one("base", exc.code, exc.reason, status=STATUS.get(exc.code, 404)) from None
    except TransientError as exc:
        raise Rejected.one("base", "provider_unreachable", str(exc), status=502) from None
