"""/api/v1/admin/connectors: channel accounts made, edited, tested and switched in the console.

Settings are validated by each channel's own schema (GET …/schema/{channel}); secrets are
write-only (always answered as **********) and stored encrypted; a failed test answers
`{"errors": {"auth_token": "invalid_auth"}}` or `{"errors": {"base": "cannot_connect"}}`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status
from fastapi.responses import JSONResponse
from sqlmodel import Session

from omnidesk.api.admin_schemas import ConnectorCheckOut, ConnectorDiagnostics, ConnectorOut
from omnidesk.api.deps import AdminAgent, SessionDep, desk_of
from omnidesk.api.schemas import PROBLEMS
from omnidesk.db import unit_of_work
from omnidesk.services import connector_admin

router = APIRouter(prefix="/admin/connectors", tags=["connectors"], responses=PROBLEMS)
SkipCheck = Annotated[bool, Query(description="Store without testing against the provider")]
Settings = Annotated[
    dict[str, Any],
    Body(
        description="The channel's settings (see GET /admin/connectors/schema/{channel})",
        examples=[
            {
                "name": "tp-sms",
                "channel": "twilio",
                "account_sid": "AC…",
                "auth_token": "…",
                "from_number": "+15005550006",
            }
        ],
    ),
]


def _one(request: Request, name: str, session: Session) -> ConnectorOut:
    found = connector_admin.one(desk_of(request), request.app.state.intake, session, name)
    return ConnectorOut.model_validate(found)


@router.get("")
def connectors(me: AdminAgent, session: SessionDep, request: Request) -> list[ConnectorOut]:
    """Every connector (file and console), redacted, with its state and webhook URLs."""
    rows = connector_admin.listing(desk_of(request), request.app.state.intake, session)
    return [ConnectorOut.model_validate(r) for r in rows]


@router.get("/schema")
def schemas(me: AdminAgent, request: Request) -> dict[str, Any]:
    """Every installed channel's settings schema, and the channels that are unavailable."""
    desk = desk_of(request)
    return {
        "channels": {c: connector_admin.channel_schema(desk, c) for c in desk.registry.classes},
        "unavailable": desk.registry.unavailable,
    }


@router.get("/schema/{channel}")
def schema(channel: str, me: AdminAgent, request: Request) -> dict[str, Any]:
    """The JSON schema of a channel's settings; secret fields are marked writeOnly."""
    return connector_admin.channel_schema(desk_of(request), channel)


@router.get("/{name}")
def connector(name: str, me: AdminAgent, session: SessionDep, request: Request) -> ConnectorOut:
    """One connector, redacted."""
    return _one(request, name, session)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_connector(
    body: Settings, me: AdminAgent, request: Request, skip_check: SkipCheck = False
) -> ConnectorOut:
    """Validate, refuse a second connector on the same account, test, store encrypted."""
    name = connector_admin.create(desk_of(request), body, me.username, skip_check=skip_check)
    return _fresh(request, name)


@router.put("/{name}")
def edit_connector(
    name: str, body: Settings, me: AdminAgent, request: Request, skip_check: SkipCheck = False
) -> ConnectorOut:
    """Change a console connector; leave a secret out (or empty) to keep it."""
    connector_admin.edit(desk_of(request), name, body, me.username, skip_check=skip_check)
    return _fresh(request, name)


def _fresh(request: Request, name: str) -> ConnectorOut:
    """Read back after the flow's own commits (these routes hold no transaction)."""
    with unit_of_work(request.app.state.settings) as session:
        return _one(request, name, session)


@router.post("/{name}/check", responses={400: {"model": ConnectorCheckOut}})
def check_connector(name: str, me: AdminAgent, request: Request) -> Any:
    """Test the connection now; the state it shows (ready, retrying, needs_reauth) is kept."""
    ok, state, errors = connector_admin.test_connection(desk_of(request), name, me.username)
    result = ConnectorCheckOut(ok=ok, state=state, errors=errors)
    return result if ok else JSONResponse(result.model_dump(), status_code=400)


@router.post("/{name}/enable")
def enable_connector(name: str, me: AdminAgent, request: Request) -> ConnectorOut:
    """Switch a console connector on: its webhooks answer and replies go out."""
    connector_admin.set_enabled(desk_of(request), name, True, me.username)
    return _fresh(request, name)


@router.post("/{name}/disable")
def disable_connector(name: str, me: AdminAgent, request: Request) -> ConnectorOut:
    """Switch a console connector off: its webhooks answer 404."""
    connector_admin.set_enabled(desk_of(request), name, False, me.username)
    return _fresh(request, name)


@router.get("/{name}/diagnostics")
def diagnostics(
    name: str, me: AdminAgent, session: SessionDep, request: Request
) -> ConnectorDiagnostics:
    """The redacted config, counters and the latest errors, for troubleshooting."""
    found = connector_admin.diagnostics(desk_of(request), request.app.state.intake, session, name)
    return ConnectorDiagnostics.model_validate(found)
