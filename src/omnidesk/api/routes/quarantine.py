"""/api/v1/quarantine: payloads nobody could read, for an admin to view, retry or discard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from omnidesk.api.admin_schemas import QuarantineDetail, QuarantinePage
from omnidesk.api.deps import AdminAgent, SessionDep, desk_of
from omnidesk.api.schemas import PROBLEMS
from omnidesk.db import unit_of_work
from omnidesk.services import quarantine

router = APIRouter(prefix="/quarantine", tags=["quarantine"], responses=PROBLEMS)


@router.get("")
def held_payloads(
    me: AdminAgent,
    session: SessionDep,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(held|retried|discarded)$")
    ] = "held",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QuarantinePage:
    """Quarantined payloads, newest first (default: those still held)."""
    items, total = quarantine.page(session, status_, limit, offset)
    return QuarantinePage(items=items, total=total, limit=limit, offset=offset)  # type: ignore[arg-type]


@router.get("/{quarantine_id}")
def held_payload(quarantine_id: int, me: AdminAgent, session: SessionDep) -> QuarantineDetail:
    """One payload with its reason and raw bytes (text when UTF-8, else base64)."""
    return QuarantineDetail.model_validate(quarantine.get(session, quarantine_id))


@router.post("/{quarantine_id}/retry")
def retry(quarantine_id: int, me: AdminAgent, request: Request) -> QuarantineDetail:
    """Read it again with its live connector and accept it as a message.

    409 when it was settled already or its connector cannot read payloads again; 422
    (`still_unreadable`) when it still fails: it stays held with the new reason. Retrying a
    payload whose message exists settles on that message (no second one).
    """
    quarantine.retry(desk_of(request), request.app.state.intake, quarantine_id, me.username)
    with unit_of_work(request.app.state.settings) as session:
        return QuarantineDetail.model_validate(quarantine.get(session, quarantine_id))


@router.post("/{quarantine_id}/discard", status_code=status.HTTP_204_NO_CONTENT)
def discard(quarantine_id: int, me: AdminAgent, session: SessionDep) -> None:
    """Give up on it (the raw bytes stay for the record)."""
    quarantine.discard(session, quarantine_id, me.username)
