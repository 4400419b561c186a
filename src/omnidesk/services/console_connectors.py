"""Connectors made in the admin console: validated, tested, stored encrypted, live at once.

The flow follows STYLE §5: validate with the channel's `config_class`, refuse a second connector
on the same provider account (`already_configured`), run `check()` against the provider, store
the config with every secret encrypted (omnidesk.secrets), and load it into the running desk.
File connectors stay read-only here. Another process (a worker, a second API server) picks up
console changes with `refresh(desk)`, which reloads when the stored records changed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, select

from omnidesk import secrets
from omnidesk.connector import Connector, Registry, WebhookConnector
from omnidesk.db import read_session, unit_of_work
from omnidesk.errors import CannotConnect, ConfigError, InvalidAuth, OmnideskError
from omnidesk.models import ConnectorRecord, ConnectorState, utcnow
from omnidesk.services import events
from omnidesk.services.problems import Rejected

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from omnidesk.connector import ConnectorEnv, Intake
    from omnidesk.desk import Desk

log = structlog.get_logger(__name__)

CONSOLE = "console"
REFRESH_EVERY = 5.0
MISS_REFRESH_EVERY = 0.5


def validate(registry: Registry, env: ConnectorEnv, data: dict[str, Any]) -> Connector:
    """Build a connector from console input; errors keyed by field with pydantic's codes."""
    try:
        return registry.build(data, env)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors(include_input=False, include_url=False):
            errors.setdefault(str(err["loc"][0]) if err["loc"] else "base", err["type"])
        raise Rejected(errors, "; ".join(_messages(exc))) from None
    except ConfigError as exc:
        raise Rejected.one("channel", "unknown_channel", str(exc)) from None


def _messages(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or 'base'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    ]


def check(connector: Connector) -> None:
    """Run the connector's connection test; Rejected (400) keyed by field when it fails."""
    try:
        connector.check()
    except InvalidAuth as exc:
        raise Rejected.one(exc.field or "base", "invalid_auth", str(exc), status=400) from None
    except CannotConnect as exc:
        raise Rejected.one("base", "cannot_connect", str(exc), status=400) from None
    except Exception as exc:  # noqa: BLE001 - a provider SDK may raise anything; never a 500
        log.warning("connector_check_crashed", connector=connector.config.name, error=type(exc))
        raise Rejected.one("base", "unknown", "the connection test failed", status=400) from None


def state_for(error: Rejected | None) -> ConnectorState:
    if error is None:
        return ConnectorState.READY
    if "invalid_auth" in error.errors.values():
        return ConnectorState.NEEDS_REAUTH
    return ConnectorState.RETRYING


def record_state(
    session: Session, record: ConnectorRecord, state: ConnectorState, reason: str | None, actor: str
) -> None:
    """Set the record's runtime state; a change is an event (STYLE §5)."""
    if record.state == state and record.state_reason == reason:
        return
    events.record(
        session,
        "connector_state",
        connector_id=record.id,
        actor=actor,
        previous=str(record.state),
        state=str(state),
        reason=reason,
    )
    record.state, record.state_reason, record.updated_at = state, reason, utcnow()
    session.add(record)


def refuse_duplicates(
    session: Session,
    desk: Desk,
    fernet: MultiFernet,
    connector: Connector,
    *,
    replacing: str | None = None,
) -> None:
    """Refuse a taken name (409 name_taken) or a provider account already connected."""
    name = connector.config.name
    taken = session.exec(select(ConnectorRecord).where(ConnectorRecord.name == name)).first()
    if (taken is not None or name in desk.connectors) and name != replacing:
        raise Rejected.one("name", "name_taken", f"a connector named {name!r} exists", status=409)
    account = connector.config.account_identity()
    for other in _known_configs(session, desk, fernet):
        if other.name not in (name, replacing) and other.account_identity() == account:
            raise Rejected.one(
                "base", "already_configured", f"same account as {other.name!r}", status=409
            )


def _known_configs(session: Session, desk: Desk, fernet: MultiFernet) -> list[Any]:
    configs = {name: c.config for name, c in desk.connectors.items()}
    for record in session.exec(select(ConnectorRecord).where(ConnectorRecord.source == CONSOLE)):
        try:
            configs[record.name] = stored_config(desk.registry, fernet, record)
        except (secrets.SecretsError, ValidationError, ConfigError):
            continue
    return list(configs.values())


def stored_config(registry: Registry, fernet: MultiFernet, record: ConnectorRecord) -> Any:
    config_class = registry.get(record.channel).config_class
    data = secrets.unseal(fernet, config_class, record.config)
    if record.config_version < config_class.version:
        data = config_class.migrate(data, record.config_version)
    return config_class.model_validate(
        data | {"name": record.name, "channel": record.channel, "enabled": record.enabled}
    )


def store(session: Session, fernet: MultiFernet, connector: Connector) -> ConnectorRecord:
    """A new console record with the config sealed."""
    config = connector.config
    record = ConnectorRecord(
        name=config.name,
        channel=config.channel,
        source=CONSOLE,
        config=secrets.seal(fernet, config),
        config_version=config.version,
        enabled=config.enabled,
        state=ConnectorState.READY if config.enabled else ConnectorState.DISABLED,
    )
    session.add(record)
    session.flush()
    return record


def replace(
    session: Session, fernet: MultiFernet, record: ConnectorRecord, connector: Connector
) -> None:
    """Store an edited config (the caller has validated and checked it)."""
    record.config = secrets.seal(fernet, connector.config)
    record.config_version = connector.config.version
    record.enabled = connector.config.enabled
    record.updated_at = utcnow()
    session.add(record)


def edited(
    registry: Registry, fernet: MultiFernet, record: ConnectorRecord, changes: dict[str, Any]
) -> dict[str, Any]:
    """The record's config with `changes` applied: keys left out keep their value, and so does
    a secret sent empty or null (secrets are write-only: the console never has them)."""
    config_class = registry.get(record.channel).config_class
    if "name" in changes and changes["name"] != record.name:
        raise Rejected.one("name", "immutable", "a connector cannot be renamed")
    if "channel" in changes and changes["channel"] != record.channel:
        raise Rejected.one("channel", "immutable", "a connector's channel cannot change")
    keep = {k for k in secrets.secret_fields(config_class) if changes.get(k) in (None, "")}
    current = secrets.unseal(fernet, config_class, record.config)
    fresh = {k: v for k, v in changes.items() if k not in keep}
    return current | fresh | {"name": record.name, "channel": record.channel}


def set_enabled(session: Session, record: ConnectorRecord, enabled: bool, actor: str) -> None:
    if record.enabled == enabled:
        return
    record.enabled = enabled
    record.config = {**record.config, "enabled": enabled}
    state = ConnectorState.READY if enabled else ConnectorState.DISABLED
    record_state(session, record, state, None if enabled else f"disabled by {actor}", actor)
    record.updated_at = utcnow()
    session.add(record)


def webhook_urls(connector: Connector, env: ConnectorEnv, intake: Intake) -> list[str]:
    """The URLs to paste into the provider's console (none for a polling connector)."""
    if not isinstance(connector, WebhookConnector):
        return []
    paths = dict.fromkeys(getattr(r, "path", "") for r in connector.webhooks(intake).routes)
    return [env.webhook_url(connector.config.name, p) for p in paths]


# -- the running desk --------------------------------------------------------------------------


@dataclass
class _Loaded:
    fingerprint: tuple[int, str] | None = None
    checked: float = 0.0


_loaded: dict[int, _Loaded] = {}
_lock = threading.Lock()


def _fingerprint(session: Session) -> tuple[int, str]:
    stmt = select(func.count(), func.max(ConnectorRecord.updated_at)).where(
        ConnectorRecord.source == CONSOLE
    )
    count, latest = session.exec(stmt).one()
    return int(count), str(latest)


def load_into(desk: Desk) -> list[str]:
    """(Re)build every console connector into `desk`; a broken one is marked `error`."""
    fernet = secrets.cipher(desk.settings)
    # Read-only: a stage may look a connector up inside its own write transaction, and on
    # SQLite a second writer in the same thread would wait for that transaction forever.
    with read_session(desk.settings) as session:
        fingerprint = _fingerprint(session)
        records = list(
            session.exec(select(ConnectorRecord).where(ConnectorRecord.source == CONSOLE))
        )
        built, broken = _build_all(desk, fernet, records)
        ids = {r.name: r.id for r in records if r.id is not None}
    if broken:
        with unit_of_work(desk.settings) as session:
            for record_id, reason in broken.items():
                record = session.get(ConnectorRecord, record_id)
                if record is not None:
                    record_state(session, record, ConnectorState.ERROR, reason, "system")
    files = {str(t.get("name")) for t in desk.config.connectors}
    with _lock:
        for name in [n for n in desk.connectors if n not in files and n not in built]:
            desk.connectors.pop(name, None)
        desk.connectors.update(built)
        desk.ids.update(ids)
        _loaded.setdefault(id(desk), _Loaded()).fingerprint = fingerprint
        _loaded[id(desk)].checked = time.monotonic()
    return sorted(built)


def _build_all(
    desk: Desk, fernet: MultiFernet, records: list[ConnectorRecord]
) -> tuple[dict[str, Connector], dict[int, str]]:
    """The connectors that build, and why the others (by record id) do not."""
    built: dict[str, Connector] = {}
    broken: dict[int, str] = {}
    for record in records:
        try:
            config = stored_config(desk.registry, fernet, record)
            built[record.name] = desk.registry.get(record.channel)(config, desk.env)  # type: ignore[call-arg]
        except (secrets.SecretsError, ValidationError, OmnideskError) as exc:
            reason = (
                str(exc)
                if isinstance(exc, secrets.SecretsError | ConfigError)
                else ("the stored config no longer validates")
            )
            log.error("connector_unloadable", connector=record.name, reason=reason)
            broken[record.id] = reason  # type: ignore[index]
    return built, broken


def refresh(desk: Desk, *, force: bool = False) -> bool:
    """Reload the console connectors if they changed since the last look (checked at most
    every REFRESH_EVERY seconds; `force`, on a lookup miss, every MISS_REFRESH_EVERY)."""
    state = _loaded.get(id(desk)) or _Loaded()
    age = time.monotonic() - state.checked
    if age < (MISS_REFRESH_EVERY if force else REFRESH_EVERY):
        return False
    with read_session(desk.settings) as session:
        fingerprint = _fingerprint(session)
    state.checked = time.monotonic()
    _loaded[id(desk)] = state
    if fingerprint == state.fingerprint:
        return False
    load_into(desk)
    return True


def live_name(desk: Desk, connector_id: int) -> str | None:
    """The name of the enabled connector with this id in the desk (no database access)."""
    for name, cid in list(desk.ids.items()):
        connector = desk.connectors.get(name)
        if cid == connector_id and connector is not None and connector.config.enabled:
            return name
    return None
