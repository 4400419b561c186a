"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from omnidesk.db import get_engine

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> dict[str, object]:
    with get_engine(request.app.state.settings).connect() as conn:
        conn.execute(text("select 1"))
    return {"status": "ok", "connectors": sorted(request.app.state.desk.connectors)}
