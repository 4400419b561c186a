"""The admin console's connector flows: list, create, edit, test, enable/disable, diagnose.

Each flow owns its transactions (like intake): a provider's connection test never runs while a
database transaction is open, and the running desk is reloaded after the commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from omnidesk import secrets
from omnidesk.connector import Connector, Intake
from omnidesk.db import unit_of_work
from omnidesk.models import (
    ConnectorRecord,
    Direction,
    Event,
    Message,
    QuarantinedPayload,
)
from omnidesk.services import audit
from omnidesk.services import console_connectors as console
from omnidesk.services.audit import REDACTED
from omnidesk.services.problems import NotFound, Rejected

if TYPE_CHECKING:
    from omnidesk.desk import Desk

RESERVED_NAMES = frozenset({"schema"})
MAX_ERRORS = 10


def _record(session: Session, name: str, *, console_only: bool = False) -> ConnectorRecord:
    record = session.exec(select(ConnectorRecord).where(ConnectorRecord.name == name)).first()
    if record is None:
        raise NotFound(f"no connector {name!r}")
    if console_only and record.source != console.CONSOLE:
        raise Rejected.one(
            "base",
            "read_only",
            "this connector comes from the config file; change it there",
            status=409,
        )
    return record


def describe(record: ConnectorRecord, desk: Desk, intake: Intake) -> dict[str, Any]:
    """A connector as the console lists it: redacted config, state and webhook URLs."""
    live = desk.connectors.get(record.name)
    if live is not None:
        config = live.config.redacted()
    else:
        hidden = (
            set(secrets.secret_fields(desk.registry.get(record.channel).config_class))
            if (record.channel in desk.registry.classes)
            else set()
        )
        config = {k: (REDACTED if k in hidden and v else v) for k, v in record.config.items()}
    urls = console.webhook_urls(live, desk.env, intake) if live is not None else []
    return record.model_dump(mode="json", exclude={"config", "config_version"}) | {
        "live": live is not None and live.config.enabled,
        "config": config,
        "webhook_url": desk.env.webhook_url(record.name) if urls else None,
        "webhook_urls": urls,
    }


def listing(desk: Desk, intake: Intake, session: Session) -> list[dict[str, Any]]:
    records = session.exec(select(ConnectorRecord).order_by(col(ConnectorRecord.name)))
    return [describe(r, desk, intake) for r in records]


def one(desk: Desk, intake: Intake, session: Session, name: str) -> dict[str, Any]:
    return describe(_record(session, name), desk, intake)


def create(desk: Desk, data: dict[str, Any], actor: str, *, skip_check: bool) -> str:
    """Validate, refuse duplicates, test against the provider, store sealed, load: the name."""
    fernet = secrets.cipher(desk.settings)
    connector = console.validate(desk.registry, desk.env, data)
    name = connector.config.name
    if name in RESERVED_NAMES:
        raise Rejected.one("name", "reserved", f"{name!r} is reserved", status=409)
    with unit_of_work(desk.settings) as session:
        console.refuse_duplicates(session, desk, fernet, connector)
    if not skip_check:
        console.check(connector)
    with unit_of_work(desk.settings) as session:
        console.refuse_duplicates(session, desk, fernet, connector)
        record = console.store(session, fernet, connector)
        audit.record(
            session,
            actor,
            "connector_created",
            "connector",
            name,
            channel=record.channel,
            config=connector.config.redacted(),
            checked=not skip_check,
        )
    console.load_into(desk)
    return name


def edit(desk: Desk, name: str, changes: dict[str, Any], actor: str, *, skip_check: bool) -> None:
    """Change a console connector; a secret left out keeps its stored value."""
    fernet = secrets.cipher(desk.settings)
    with unit_of_work(desk.settings) as session:
        record = _record(session, name, console_only=True)
        data = console.edited(desk.registry, fernet, record, changes)
        console.refuse_duplicates(
            session, desk, fernet, console.validate(desk.registry, desk.env, data), replacing=name
        )
    connector = console.validate(desk.registry, desk.env, data)
    if not skip_check:
        console.check(connector)
    with unit_of_work(desk.settings) as session:
        record = _record(session, name, console_only=True)
        before = _redacted(desk, record, fernet)
        console.replace(session, fernet, record, connector)
        given = set(changes) & set(secrets.secret_fields(type(connector.config)))
        audit.record(
            session,
            actor,
            "connector_updated",
            "connector",
            name,
            changes=audit.changes(before, connector.config.redacted()),
            rotated=sorted(k for k in given if changes.get(k)),
        )
    console.load_into(desk)


def _redacted(desk: Desk, record: ConnectorRecord, fernet: Any) -> dict[str, Any]:
    try:
        return dict(console.stored_config(desk.registry, fernet, record).redacted())
    except (secrets.SecretsError, ValueError):
        return {}


def test_connection(desk: Desk, name: str, actor: str) -> tuple[bool, str, dict[str, str]]:
    """Run the live connector's `check()`; record the state it shows. (ok, state, errors)."""
    console.refresh(desk)
    with unit_of_work(desk.settings) as session:
        _record(session, name)
    connector = desk.connectors.get(name)
    if connector is None:
        raise Rejected.one(
            "base",
            "not_loaded",
            "the connector could not be loaded; see its state_reason",
            status=409,
        )
    error = _check(connector)
    state = console.state_for(error)
    with unit_of_work(desk.settings) as session:
        record = _record(session, name)
        console.record_state(session, record, state, str(error) if error else None, actor)
    return error is None, str(state), error.errors if error else {}


def _check(connector: Connector) -> Rejected | None:
    try:
        console.check(connector)
    except Rejected as exc:
        return exc
    return None


def set_enabled(desk: Desk, name: str, enabled: bool, actor: str) -> None:
    with unit_of_work(desk.settings) as session:
        record = _record(session, name, console_only=True)
        if record.enabled != enabled:
            console.set_enabled(session, record, enabled, actor)
            action = "connector_enabled" if enabled else "connector_disabled"
            audit.record(session, actor, action, "connector", name)
    console.load_into(desk)


def diagnostics(desk: Desk, intake: Intake, session: Session, name: str) -> dict[str, Any]:
    """The redacted config with counters and the latest errors (sent replies, quarantine,
    state changes)."""
    record = _record(session, name)
    cid = record.id

    def count(*where: Any, table: Any = Message) -> int:
        return int(session.exec(select(func.count()).select_from(table).where(*where)).one())

    counters = {
        "inbound": count(Message.connector_id == cid, Message.direction == Direction.INBOUND),
        "outbound": count(Message.connector_id == cid, Message.direction == Direction.OUTBOUND),
        "outbound_failed": count(
            Message.connector_id == cid, col(Message.status).in_(("failed", "undelivered"))
        ),
        "outbound_pending": count(
            Message.connector_id == cid, col(Message.status).in_(("pending", "sending"))
        ),
        "quarantined": count(QuarantinedPayload.connector_id == cid, table=QuarantinedPayload),
    }
    return describe(record, desk, intake) | {
        "counters": counters,
        "last_errors": _last_errors(session, cid),  # type: ignore[arg-type]
    }


def _last_errors(session: Session, connector_id: int) -> list[dict[str, Any]]:
    failed = session.exec(
        select(Message)
        .where(
            Message.connector_id == connector_id,
            col(Message.error_code).is_not(None) | col(Message.error_reason).is_not(None),
        )
        .order_by(col(Message.updated_at).desc())
        .limit(MAX_ERRORS)
    )
    rows = [
        {
            "at": m.updated_at.isoformat(),
            "kind": "send",
            "message_id": m.id,
            "code": m.error_code,
            "reason": m.error_reason,
        }
        for m in failed
    ]
    changes = session.exec(
        select(Event)
        .where(
            Event.connector_id == connector_id,
            col(Event.kind).in_(("connector_state", "quarantined")),
        )
        .order_by(col(Event.id).desc())
        .limit(MAX_ERRORS)
    )
    rows += [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "code": e.data.get("state"),
            "reason": e.data.get("reason"),
        }
        for e in changes
    ]
    return sorted(rows, key=lambda r: str(r["at"]), reverse=True)[:MAX_ERRORS]


def channel_schema(desk: Desk, channel: str) -> dict[str, Any]:
    """The JSON schema of a channel's settings; secret fields are `writeOnly`."""
    if channel not in desk.registry.classes:
        raise NotFound(f"no channel {channel!r}")
    config_class = desk.registry.classes[channel].config_class
    schema = config_class.model_json_schema()
    for name in secrets.secret_fields(config_class):
        schema["properties"][name]["writeOnly"] = True
    return schema | {"secret_fields": list(secrets.secret_fields(config_class))}
