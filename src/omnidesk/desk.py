"""The running desk: settings, the config file and the live connectors, synced into the database."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from omnidesk import config_file
from omnidesk.config_file import DeskConfig
from omnidesk.connector import Connector, ConnectorEnv, Registry, load_registry
from omnidesk.db import unit_of_work
from omnidesk.errors import ConfigError
from omnidesk.models import ConnectorRecord, ConnectorState, utcnow
from omnidesk.services import console_connectors, directory
from omnidesk.services.settings_overlay import Effective
from omnidesk.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class Desk:
    """Everything a composition root (API app, worker, CLI) needs to reach the connectors.

    `file_config` is the TOML file as loaded; `config` is the effective configuration, the file
    overlaid by the admin console's hours, SLA policies, templates and knowledge entries, and it
    follows the console's edits without a restart (services.settings_overlay).
    """

    settings: Settings
    file_config: DeskConfig
    registry: Registry
    env: ConnectorEnv
    connectors: dict[str, Connector] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _effective: Effective = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._effective = Effective(self.file_config, self.file_config)

    @property
    def config(self) -> DeskConfig:
        """The effective configuration (re-read when the console changed a setting)."""
        before = self._effective.config
        config = self._effective.current(self.settings)
        if config is not before and "business_hours" in self.env.extras:
            self.env.extras["business_hours"] = config.hours["default"]
        return config

    @classmethod
    def load(cls, settings: Settings, *, sync: bool = True) -> Desk:
        """Read the config file, build every connector, and record them in the database."""
        config = config_file.load(settings.config, required=_explicit(settings))
        env = ConnectorEnv(
            public_url=settings.public_url,
            data_dir=settings.data_dir,
            redis_url=settings.redis_url,
            extras={
                "business_hours": config.hours["default"],
                "desk_name_zh": config.desk.name,
                "desk_name_en": config.desk.name_en,
            },
        )
        desk = cls(settings=settings, file_config=config, registry=load_registry(), env=env)
        desk._build_file_connectors()
        if sync:
            desk.sync()
            console_connectors.load_into(desk)
        return desk

    def _build_file_connectors(self) -> None:
        errors: list[str] = []
        where = str(self.file_config.path)
        for index, table in enumerate(self.file_config.connectors):
            label = f"{where}: connectors[{index}] ({table.get('name', '?')})"
            try:
                connector = self.registry.build(table, self.env)
            except ValidationError as exc:
                errors.extend(config_file.format_validation(label, exc))
                continue
            except ConfigError as exc:
                errors.append(f"{label}.channel: {exc}")
                continue
            self.connectors[connector.config.name] = connector
        _refuse_same_account(list(self.connectors.values()), errors)
        if errors:
            raise ConfigError("\n".join(errors))

    def sync(self) -> None:
        """Record the file's teams, agents, rules and connectors (read-only in the console)."""
        with unit_of_work(self.settings) as session:
            directory.sync(session, self.file_config)
            for name, connector in self.connectors.items():
                self.ids[name] = _upsert(session, connector)
            for record in session.exec(select(ConnectorRecord)):
                self.ids.setdefault(record.name, record.id)  # type: ignore[arg-type]

    def connector(self, name: str) -> Connector | None:
        _ = self.config  # connectors read the desk's hours from env.extras: keep them current
        console_connectors.refresh(self, force=name not in self.connectors)
        return self.connectors.get(name)

    def connector_id(self, name: str) -> int | None:
        if name not in self.ids:
            with unit_of_work(self.settings) as session:
                stmt = select(ConnectorRecord.id).where(ConnectorRecord.name == name)
                found = session.exec(stmt).first()
            if found is None:
                return None
            self.ids[name] = found
        return self.ids[name]

    def connector_for_id(self, connector_id: int) -> Connector | None:
        console_connectors.refresh(self, force=self._for_id(connector_id) is None)
        return self._for_id(connector_id)

    def _for_id(self, connector_id: int) -> Connector | None:
        for name, cid in list(self.ids.items()):
            if cid == connector_id:
                return self.connectors.get(name)
        return None


def _explicit(settings: Settings) -> bool:
    return "config" in settings.model_fields_set


def _refuse_same_account(connectors: list[Connector], errors: list[str]) -> None:
    seen: dict[tuple[str, ...], str] = {}
    for connector in connectors:
        key = connector.config.account_identity()
        if key in seen:
            errors.append(
                f"connector {connector.config.name!r}: already_configured "
                f"(same account as {seen[key]!r})"
            )
        seen[key] = connector.config.name


def _upsert(session: Session, connector: Connector) -> int:
    config = connector.config
    stmt = select(ConnectorRecord).where(ConnectorRecord.name == config.name)
    record = session.exec(stmt).first()
    if record is None:
        record = ConnectorRecord(name=config.name, channel=config.channel, source="file")
    record.channel = config.channel
    record.config = config.redacted()
    record.config_version = config.version
    record.enabled = config.enabled
    if not config.enabled:
        record.state = ConnectorState.DISABLED
    elif record.state == ConnectorState.DISABLED:
        record.state = ConnectorState.READY
    record.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        record = session.exec(stmt).one()
    return record.id  # type: ignore[return-value]
