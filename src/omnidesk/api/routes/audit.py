"""/api/v1/audit: every admin change, newest first (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from omnidesk.api.admin_schemas import AuditOut, AuditPage
from omnidesk.api.deps import AdminAgent, SessionDep
from omnidesk.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def audit_log(
    me: AdminAgent,
    session: SessionDep,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    """Who changed what, when; details never hold a secret."""
    rows, total = audit.page(
        session, limit=limit, offset=offset, action=action, actor=actor, target_type=target_type
    )
    items = [AuditOut.model_validate(r) for r in rows]
    return AuditPage(items=items, total=total, limit=limit, offset=offset)
