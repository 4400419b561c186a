"""The effective desk configuration: the TOML file overlaid by the admin console's settings.

Every process (API server, workers, scheduler) holds the file's `DeskConfig` and asks here for
the effective one. The console's rows are re-read only when the settings version in the
database moved: that is one primary-key read, done at most every CHECK_EVERY seconds per desk,
or at once after a change made in this process. Services keep receiving a plain `DeskConfig`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import event, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from omnidesk.config_file import DeskConfig
from omnidesk.db import read_session
from omnidesk.models import DeskSetting, DeskSettingsVersion, SettingKind, utcnow
from omnidesk.services.hours_config import HoursConfig, SlaPolicyConfig
from omnidesk.services.knowledge import KbEntry
from omnidesk.settings import Settings

log = structlog.get_logger(__name__)

CHECK_EVERY = 2.0
_local_changes = 0  # changes made by this process: its desks re-check at once


def entry_name(kind: SettingKind, key: str) -> dict[str, Any]:
    """The fields a row's key stands for, merged into its data before validating."""
    if kind in (SettingKind.HOURS, SettingKind.SLA):
        return {"name": key}
    language, _, name = key.partition("/")
    return {"language": language, "id": name} if kind == SettingKind.KNOWLEDGE else {}


def overlay(config: DeskConfig, rows: Iterable[DeskSetting], version: int) -> DeskConfig:
    """`config` with the console's rows in place of the file's entries of the same name.

    A row that no longer validates (a model grew stricter) is left out and logged; the file's
    entry, if any, shows instead.
    """
    hours, sla = dict(config.hours), {p.name: p for p in config.sla}
    templates: dict[tuple[str, str], str] = {}
    knowledge: dict[tuple[str, str], KbEntry] = {}
    for row in rows:
        data = row.data | entry_name(row.kind, row.key)
        try:
            if row.kind == SettingKind.HOURS:
                hours[row.key] = HoursConfig.model_validate(data).business_hours()
            elif row.kind == SettingKind.SLA:
                sla[row.key] = SlaPolicyConfig.model_validate(data)
            elif row.kind == SettingKind.TEMPLATE:
                language, _, name = row.key.partition("/")
                templates[(language, name)] = str(data["text"])
            elif row.kind == SettingKind.KNOWLEDGE:
                entry = KbEntry.model_validate(data)
                knowledge[(entry.language, entry.id)] = entry
        except (ValidationError, KeyError) as exc:
            log.error("desk_setting_unusable", kind=str(row.kind), key=row.key, error=str(exc))
    return dataclasses.replace(
        config,
        hours=hours,
        sla=tuple(sla.values()),
        templates=templates,
        knowledge_entries=knowledge,
        settings_version=version,
    )


# -- the version --------------------------------------------------------------------------------


def version(session: Session) -> int:
    row = session.get(DeskSettingsVersion, 1)
    return row.version if row is not None else 0


def bump(session: Session) -> None:
    """Move the version in the caller's transaction: every process then reloads, and this one's
    desks at once after the commit."""
    stmt = (
        update(DeskSettingsVersion)
        .where(col(DeskSettingsVersion.id) == 1)
        .values(version=DeskSettingsVersion.version + 1, updated_at=utcnow())
    )
    if session.exec(stmt).rowcount == 0:  # type: ignore[call-overload]
        session.add(DeskSettingsVersion(id=1, version=1))
    if not session.info.get("desk_settings_changed"):
        session.info["desk_settings_changed"] = True
        event.listen(session, "after_commit", _committed, once=True)


def _committed(session: Session) -> None:
    global _local_changes
    session.info.pop("desk_settings_changed", None)
    _local_changes += 1


def rows(session: Session, kind: SettingKind | None = None) -> list[DeskSetting]:
    stmt = select(DeskSetting).order_by(col(DeskSetting.kind), col(DeskSetting.key))
    if kind is not None:
        stmt = stmt.where(DeskSetting.kind == kind)
    return list(session.exec(stmt))


# -- one desk's effective configuration -----------------------------------------------------------


@dataclass
class Effective:
    """What one desk last overlaid, and when it last looked at the version."""

    file: DeskConfig
    config: DeskConfig
    version: int = -1
    checked: float = float("-inf")
    local_changes: int = -1
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def current(self, settings: Settings) -> DeskConfig:
        """The effective configuration, reloaded if the settings version moved."""
        now = time.monotonic()
        if now - self.checked < CHECK_EVERY and self.local_changes == _local_changes:
            return self.config
        with self.lock:
            if now - self.checked < CHECK_EVERY and self.local_changes == _local_changes:
                return self.config
            self.local_changes = _local_changes
            self.checked = now
            self._reload_if_moved(settings)
        return self.config

    def _reload_if_moved(self, settings: Settings) -> None:
        try:
            with read_session(settings) as session:
                latest = version(session)
                if latest == self.version:
                    return
                found = rows(session)
                config = overlay(self.file, found, latest)
        except SQLAlchemyError as exc:  # no database yet (before `db upgrade`): the file only
            log.warning("desk_settings_unreadable", error=type(exc).__name__)
            return
        self.config = config
        self.version = latest
        log.info("desk_settings_loaded", version=latest, rows=len(found))
