"""The web UI: login, the live task inbox, conversations, admin console and dashboard.

`web_router` serves the pages at `/` and the few endpoints only the UI needs (the live event
stream, reply suggestions, attachment bytes); everything else is the /api/v1 the UI calls.
Mount it with `app.include_router(web_router)` after /api/v1.
"""

from __future__ import annotations

from fastapi import APIRouter

from omnidesk.web import attachments, pages, stream, suggestions

web_router = APIRouter()
for _module in (stream, suggestions, attachments, pages):
    web_router.include_router(_module.router)

__all__ = ["web_router"]
