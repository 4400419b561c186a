"""The API app (composition root #1): health, the desk's API and every connector's webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from omnidesk import __version__
from omnidesk.api import v1
from omnidesk.api.chat_mount import ChatRouter
from omnidesk.api.routes import health, survey_page
from omnidesk.api.webhooks import WebhookRouter
from omnidesk.desk import Desk
from omnidesk.services.chat import DeskChatBook
from omnidesk.services.intake import DeskIntake
from omnidesk.services.pipeline import Dispatcher, resolve_dispatcher
from omnidesk.settings import Settings
from omnidesk.web import web_router


def create_app(
    settings: Settings, *, desk: Desk | None = None, dispatcher: Dispatcher | None = None
) -> FastAPI:
    """Build the app; the desk (config + connectors) is loaded now, so errors show at start."""
    desk = desk or Desk.load(settings)
    dispatcher = dispatcher or resolve_dispatcher(settings.dispatcher)
    intake = DeskIntake(desk, dispatcher)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="omnidesk",
        version=__version__,
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.desk = desk
    app.state.intake = intake
    app.include_router(health.router)
    app.include_router(survey_page.router)
    v1.install(app)
    app.include_router(web_router)
    app.mount("/webhooks", WebhookRouter(desk, intake, settings.max_body_bytes))
    app.mount("/webchat", ChatRouter(desk, intake, DeskChatBook(desk), settings.max_body_bytes))

    return app
