"""The effective configuration: the file's entries overlaid by the console's rows, re-read by
every process when the settings version moves."""

from __future__ import annotations

from datetime import time

from sqlalchemy import text

from omnidesk import config_file
from omnidesk.db import unit_of_work
from omnidesk.desk import Desk
from omnidesk.models import DeskSetting, SettingKind
from omnidesk.services import desk_settings, settings_overlay, templates
from omnidesk.services.settings_overlay import overlay

FILE = """
[[hours]]
name = "default"
opens = "09:00"
closes = "18:00"

[[sla]]
name = "normal"
priority = "normal"
first_response = "4h"
resolution = "3d"

[[sla]]
name = "low"
priority = "low"
first_response = "1d"
resolution = "5d"
"""


def _row(kind: SettingKind, key: str, data: dict) -> DeskSetting:
    return DeskSetting(kind=kind, key=key, data=data)


def test_console_rows_replace_the_files_entries_and_add_their_own(tmp_path):
    path = tmp_path / "omnidesk.toml"
    path.write_text(FILE, encoding="utf-8")
    file = config_file.load(path)
    rows = [
        _row(SettingKind.HOURS, "default", {"opens": "08:00", "closes": "12:00"}),
        _row(SettingKind.HOURS, "night", {"opens": "18:00", "closes": "23:00"}),
        _row(SettingKind.SLA, "normal", {"first_response": "1h", "resolution": "1d"}),
        _row(SettingKind.SLA, "vip", {"first_response": "5m", "resolution": "1h"}),
        _row(SettingKind.TEMPLATE, "en/when_open", {"text": "Soon."}),
        _row(
            SettingKind.KNOWLEDGE,
            "en/gift",
            {"title": "Gifts", "questions": ["a?", "b?"], "answer": "Yes."},
        ),
        _row(SettingKind.SLA, "broken", {"first_response": "soon", "resolution": "1d"}),
    ]

    effective = overlay(file, rows, 7)

    assert (effective.hours["default"].opens, effective.hours["default"].closes) == (
        time(8),
        time(12),
    )
    assert effective.hours["night"].opens == time(18)
    assert [p.name for p in effective.sla] == ["normal", "low", "vip"]  # the file's order first
    assert effective.sla[0].first_response == "1h"
    assert effective.templates == {("en", "when_open"): "Soon."}
    assert effective.knowledge_entries[("en", "gift")].answer == "Yes."
    assert effective.settings_version == 7
    assert file.hours["default"].opens == time(9)  # the file's config is left alone


def test_another_processs_change_shows_within_the_check_interval(settings, monkeypatch):
    desk = Desk.load(settings)
    assert desk.config.templates == {}
    monkeypatch.setattr(settings_overlay, "CHECK_EVERY", 3600.0)

    with unit_of_work(settings) as session:  # what another process commits: no local signal
        session.add(_row(SettingKind.TEMPLATE, "zh/when_open", {"text": "马上回复您。"}))
        session.exec(text("UPDATE desk_settings_version SET version = version + 1"))

    assert desk.config.templates == {}  # checked a moment ago: not yet
    monkeypatch.setattr(settings_overlay, "CHECK_EVERY", 0.0)
    assert desk.config.templates == {("zh", "when_open"): "马上回复您。"}
    assert desk.config.settings_version == 1


def test_a_change_made_in_this_process_shows_at_once(settings, monkeypatch):
    desk = Desk.load(settings)
    before = desk.config
    monkeypatch.setattr(settings_overlay, "CHECK_EVERY", 3600.0)

    with unit_of_work(settings) as session:
        session.add(_row(SettingKind.HOURS, "default", {"opens": "07:00", "closes": "08:00"}))
        settings_overlay.bump(session)

    assert desk.config is not before
    assert desk.config.hours["default"].opens == time(7)
    assert desk.env.extras["business_hours"].opens == time(7)  # what connectors read
    assert desk.config is desk.config  # unchanged version: the same object, no re-read


def test_every_built_in_template_passes_the_consoles_placeholder_check():
    assert {name for _, name in templates.DEFAULTS} == set(templates.PLACEHOLDERS)
    for (_, name), default in templates.DEFAULTS.items():
        desk_settings.check_template(name, default)  # raises Rejected on a placeholder it lacks
