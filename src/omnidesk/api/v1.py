"""/api/v1: every router, the shape of refused changes, and console connectors made live.

`install(app)` is called by `create_app`; it is idempotent.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from omnidesk import secrets
from omnidesk.api.routes import (
    agents,
    audit,
    auth,
    classifier,
    connectors,
    customers,
    desk_settings,
    directory,
    feedback,
    quarantine,
    reports,
    requests,
)
from omnidesk.services import console_connectors
from omnidesk.services.problems import NotFound, Rejected

PREFIX = "/api/v1"
ROUTERS = (
    auth,
    requests,
    customers,
    agents,
    directory,
    connectors,
    quarantine,
    classifier,
    audit,
    desk_settings,
    reports,
    feedback,
)


def api_router() -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    for module in ROUTERS:
        api.include_router(module.router)
    return api


async def _rejected(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Rejected)
    body: dict[str, object] = {"detail": str(exc), "errors": exc.errors}
    if exc.messages:
        body["messages"] = exc.messages
    return JSONResponse(body, status_code=exc.status)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "errors": {}}, status_code=404)


def install(app: FastAPI) -> None:
    """Mount /api/v1 on the app and load the console's connectors into its desk."""
    if getattr(app.state, "api_v1", False):
        return
    secrets.cipher(app.state.settings)  # production refuses to start without the key
    console_connectors.refresh(app.state.desk, force=True)  # a no-op if Desk.load did it
    app.include_router(api_router())
    app.add_exception_handler(Rejected, _rejected)
    app.add_exception_handler(NotFound, _not_found)
    app.state.api_v1 = True
