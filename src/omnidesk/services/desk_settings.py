"""The desk's configuration as the console shows and edits it: hours, SLA policies, templates,
knowledge base.

Like connectors, an entry comes from the config file (with config/templates, config/knowledge;
read-only here), is built in (the "default" hours, the default SLA policies, the templates'
default text), or is made in the console and stored as a `DeskSetting` row. A console row with
the name of a file entry overrides it; deleting the row resets the entry to the file's. Console
input goes through the file's own pydantic models, so it is refused with the same messages.
Every change bumps the settings version (services.settings_overlay) and is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from string import Template
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from omnidesk.config_file import DeskConfig
from omnidesk.errors import ConfigError
from omnidesk.models import DeskSetting, RoutingRule, SettingKind, Team, utcnow
from omnidesk.services import audit, settings_overlay, templates
from omnidesk.services.answers import knowledge_directory
from omnidesk.services.hours_config import WEEKDAYS, HoursConfig, SlaPolicyConfig
from omnidesk.services.knowledge import KbEntry, read_entries
from omnidesk.services.problems import NotFound, Rejected

LANGUAGES = ("zh", "en")
MAX_TEMPLATE_CHARS = 4000
ORIGIN_FIELDS = frozenset({"source", "overrides_file", "updated_at", "updated_by"})

Row = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


class Overlaid:
    """One read of the console's rows over the file's entries (what GET and the checks see)."""

    def __init__(self, session: Session, file: DeskConfig) -> None:
        self.file = file
        self.rows = {(r.kind, r.key): r for r in settings_overlay.rows(session)}
        version = settings_overlay.version(session)
        self.config = settings_overlay.overlay(file, self.rows.values(), version)

    def row(self, kind: SettingKind, key: str) -> DeskSetting | None:
        return self.rows.get((kind, key))

    def entry(self, kind: SettingKind, key: str) -> dict[str, Any] | None:
        """The entry as it stands, in the shape a console row stores (None: there is none)."""
        row = self.row(kind, key)
        return dict(row.data) if row is not None else self.file_entry(kind, key)

    def file_entry(self, kind: SettingKind, key: str) -> dict[str, Any] | None:
        """The file's (or the built-in) entry under `key`, in the shape a console row stores."""
        if kind == SettingKind.HOURS:
            table = file_hours(self.file).get(key)
            return _hours_table(table) if table is not None else None
        if kind == SettingKind.SLA:
            policy = next((p for p in self.file.sla if p.name == key), None)
            return policy.model_dump(mode="json", exclude={"name"}) if policy else None
        language, _, name = key.partition("/")
        if kind == SettingKind.TEMPLATE:
            found = _file_templates(self.file).get((language, name))
            return {"text": found[0]} if found else None
        entries = {(e.language, e.id): e for e in _file_entries(self.file)}
        entry = entries.get((language, name))
        return entry.model_dump(mode="json", exclude={"id", "language"}) if entry else None

    def origin(self, kind: SettingKind, key: str, in_file: bool) -> dict[str, Any]:
        """`source` and `overrides_file` of one entry, and who changed it last in the console."""
        row = self.row(kind, key)
        built_in = f"{kind}:{key}" in self.file.built_in
        if row is None:
            return {
                "source": "default" if built_in or not in_file else "file",
                "overrides_file": False,
                "updated_at": None,
                "updated_by": None,
            }
        return {
            "source": "console",
            "overrides_file": in_file,
            "updated_at": row.updated_at,
            "updated_by": row.updated_by,
        }


# -- reading -------------------------------------------------------------------------------------


def file_hours(file: DeskConfig) -> dict[str, HoursConfig]:
    """The file's [[hours]] tables, and the built-in "default" if the file has none."""
    tables = {h.name: h for h in file.hours_tables}
    if "default" not in tables:
        tables["default"] = HoursConfig(time_zone=file.desk.time_zone)
    return tables


def hours_rows(current: Overlaid) -> list[Row]:
    file_tables = file_hours(current.file)
    out = []
    for name, effective in sorted(current.config.hours.items()):
        table = _console_hours(current.row(SettingKind.HOURS, name)) or file_tables.get(name)
        out.append(
            {
                "name": name,
                "time_zone": effective.time_zone,
                "opens": effective.opens.strftime("%H:%M"),
                "closes": effective.closes.strftime("%H:%M"),
                "workdays": sorted(effective.workdays),
                "holidays": sorted(effective.holidays),
                "extra_workdays": sorted(effective.extra_workdays),
                "table": _hours_table(table) if table is not None else None,
            }
            | current.origin(SettingKind.HOURS, name, name in file_tables)
        )
    return out


def _console_hours(row: DeskSetting | None) -> HoursConfig | None:
    if row is None:
        return None
    try:
        return HoursConfig.model_validate(row.data | {"name": row.key})
    except ValidationError:  # left out of the effective config too (settings_overlay.overlay)
        return None


def _hours_table(table: HoursConfig) -> dict[str, Any]:
    """The entry as a [[hours]] table is written (HH:MM times, workdays in week order)."""
    return table.model_dump(mode="json", exclude={"name"}) | {
        "opens": table.opens.strftime("%H:%M"),
        "closes": table.closes.strftime("%H:%M"),
        "workdays": [d for d in WEEKDAYS if d in table.workdays],
    }


def sla_rows(current: Overlaid) -> list[Row]:
    file_names = {p.name for p in current.file.sla}
    return [
        p.model_dump(mode="json") | current.origin(SettingKind.SLA, p.name, p.name in file_names)
        for p in current.config.sla
    ]


def _file_templates(file: DeskConfig) -> dict[tuple[str, str], tuple[str, str]]:
    """(language, name) → (text, "file" or "default") before the console's overrides."""
    base = file.path.parent / "templates" if file.path else None
    found = {key: (text, "default") for key, text in templates.DEFAULTS.items()}
    if base is not None and base.is_dir():
        for path in base.glob("*/*.txt"):
            found[(path.parent.name, path.stem)] = (path.read_text(encoding="utf-8"), "file")
    return found


def template_rows(current: Overlaid) -> list[Row]:
    """Every template in zh and en: the console's text, else config/templates', else built in."""
    rows = []
    for (language, name), (text, source) in sorted(_file_templates(current.file).items()):
        row = current.row(SettingKind.TEMPLATE, f"{language}/{name}")
        origin = current.origin(SettingKind.TEMPLATE, f"{language}/{name}", True)
        allowed = templates.PLACEHOLDERS.get(name)
        rows.append(
            {
                "name": name,
                "language": language,
                "text": row.data["text"] if row is not None else text,
                "editable": allowed is not None,
                "placeholders": sorted(allowed or ()),
            }
            | origin
            | ({"source": source} if row is None else {})
        )
    return rows


def _file_entries(file: DeskConfig) -> list[KbEntry]:
    directory = knowledge_directory(file)
    return read_entries(directory) if directory is not None else []


def knowledge(current: Overlaid) -> dict[str, Any]:
    """The knowledge base's settings and entries (or why the files cannot be read)."""
    config = current.config
    out: dict[str, Any] = {
        "enabled": config.knowledge.enabled,
        "directory": str(config.knowledge.directory),
        "thresholds": dict(config.knowledge.thresholds),
        "entries": [],
        "error": None,
    }
    try:
        file_entries = _file_entries(current.file)
    except ConfigError as exc:
        return out | {"error": str(exc)}
    in_file = {(e.language, e.id) for e in file_entries}
    console = config.knowledge_entries
    replaced = [console.get((e.language, e.id), e) for e in file_entries]
    added = [e for key, e in sorted(console.items()) if key not in in_file]
    out["entries"] = [
        e.model_dump(mode="json")
        | current.origin(
            SettingKind.KNOWLEDGE, f"{e.language}/{e.id}", (e.language, e.id) in in_file
        )
        for e in replaced + added
    ]
    return out


# -- checking ------------------------------------------------------------------------------------


def validated(model: type[M], data: dict[str, Any]) -> M:
    """`data` as the file's `model`; Rejected (422) keyed by field, with pydantic's messages.

    The fields GET adds about where an entry comes from are dropped, so what GET gave can be
    changed and sent back.
    """
    try:
        return model.model_validate({k: v for k, v in data.items() if k not in ORIGIN_FIELDS})
    except ValidationError as exc:
        errors: dict[str, str] = {}
        messages: dict[str, str] = {}
        for err in exc.errors(include_input=False, include_url=False):
            field = str(err["loc"][0]) if err["loc"] else "base"
            errors.setdefault(field, err["type"])
            where = ".".join(str(p) for p in err["loc"])
            text = err["msg"].removeprefix("Value error, ")
            messages.setdefault(field, f"{where}: {text}" if len(err["loc"]) > 1 else text)
        summary = "; ".join(f"{k}: {v}" for k, v in messages.items())
        raise Rejected(errors, summary, messages=messages) from None


def check_template(name: str, text: str) -> None:
    """Refuse a template text with a placeholder its template is not filled with."""
    allowed = templates.PLACEHOLDERS[name]
    shown = ", ".join(f"${p}" for p in sorted(allowed)) or "none"
    if not text.strip():
        raise _text_problem("empty", "the text is empty")
    if len(text) > MAX_TEMPLATE_CHARS:
        raise _text_problem("too_long", f"at most {MAX_TEMPLATE_CHARS} characters")
    template = Template(text)
    if not template.is_valid():
        raise _text_problem(
            "invalid_placeholder",
            f"a $ must start a placeholder ($name or ${{name}}) or be doubled ($$); "
            f"this template can use {shown}",
        )
    unknown = sorted(set(template.get_identifiers()) - allowed)
    if unknown:
        raise _text_problem(
            "unknown_placeholder",
            f"unknown placeholder ${unknown[0]}: the {name} template can use {shown}",
        )


def _text_problem(code: str, message: str) -> Rejected:
    return Rejected({"text": code}, f"text: {message}", messages={"text": message})


def _known(values: Iterable[str | None], known: Iterable[str], field: str, code: str) -> None:
    missing = sorted({v for v in values if v} - set(known))
    if missing:
        message = f"no {field} named {missing[0]!r}"
        raise Rejected({field: code}, f"{field}: {message}", messages={field: message})


def _in_use(message: str, code: str) -> Rejected:
    return Rejected({"base": code}, message, status=409, messages={"base": message})


# -- writing -------------------------------------------------------------------------------------


def _save(
    session: Session, kind: SettingKind, key: str, data: dict[str, Any], actor: str
) -> DeskSetting:
    # The version row is updated first: its row lock queues concurrent changes (PostgreSQL),
    # so a second admin saving the same new entry finds the first one's row, not a conflict.
    settings_overlay.bump(session)
    row = session.exec(
        select(DeskSetting).where(DeskSetting.kind == kind, DeskSetting.key == key)
    ).first()
    row = row or DeskSetting(kind=kind, key=key)
    row.data, row.updated_at, row.updated_by = data, utcnow(), actor
    session.add(row)
    session.flush()
    return row


def _delete(
    session: Session, current: Overlaid, kind: SettingKind, key: str, in_file: bool
) -> None:
    """Delete the console's row (a reset if the file has the entry); refuse a file entry."""
    row = current.row(kind, key)
    if row is None:
        if in_file:
            message = "this entry comes from the config file (or is built in); change it there"
            raise Rejected({"base": "read_only"}, message, status=409, messages={"base": message})
        raise NotFound(f"no {kind} setting {key!r}")
    session.delete(row)
    settings_overlay.bump(session)


def save_hours(
    session: Session, file: DeskConfig, name: str, data: dict[str, Any], actor: str
) -> None:
    """Create or replace the hours `name` (an override if the file has them)."""
    table = validated(HoursConfig, {k: v for k, v in data.items() if k != "name"} | {"name": name})
    current = Overlaid(session, file)
    before = current.entry(SettingKind.HOURS, name)
    stored = _hours_table(table)
    _save(session, SettingKind.HOURS, name, stored, actor)
    _audit(session, actor, "hours_saved", "hours", name, before, stored)


def delete_hours(session: Session, file: DeskConfig, name: str, actor: str) -> None:
    """Remove console hours or reset an override; refuse hours that would vanish while a team or
    an SLA policy runs on them."""
    current = Overlaid(session, file)
    in_file = name in file_hours(file)
    if current.row(SettingKind.HOURS, name) is not None and not in_file:
        team = session.exec(select(Team.name).where(Team.hours == name)).first()
        if team is not None:
            raise _in_use(f"team {team!r} works these hours; give it other hours first", "in_use")
        policy = next((p.name for p in current.config.sla if p.hours == name), None)
        if policy is not None:
            raise _in_use(f"SLA policy {policy!r} runs on these hours", "in_use")
    before = _data(current.row(SettingKind.HOURS, name))
    _delete(session, current, SettingKind.HOURS, name, in_file)
    action = "hours_reset" if in_file else "hours_deleted"
    _audit(
        session, actor, action, "hours", name, before, current.file_entry(SettingKind.HOURS, name)
    )


def save_sla(
    session: Session,
    file: DeskConfig,
    name: str,
    data: dict[str, Any],
    actor: str,
    categories: Iterable[str],
) -> None:
    """Create or replace the SLA policy `name`; its hours and category must exist."""
    policy = validated(
        SlaPolicyConfig, {k: v for k, v in data.items() if k != "name"} | {"name": name}
    )
    current = Overlaid(session, file)
    _known([policy.hours], current.config.hours, "hours", "unknown_hours")
    _known([policy.category], categories, "category", "unknown_category")
    before = current.entry(SettingKind.SLA, name)
    stored = policy.model_dump(mode="json", exclude={"name"})
    _save(session, SettingKind.SLA, name, stored, actor)
    _audit(session, actor, "sla_saved", "sla", name, before, stored)


def delete_sla(session: Session, file: DeskConfig, name: str, actor: str) -> None:
    """Remove a console SLA policy or reset an override; refuse one a routing rule names."""
    current = Overlaid(session, file)
    in_file = name in {p.name for p in file.sla}
    if current.row(SettingKind.SLA, name) is not None and not in_file:
        rule = session.exec(select(RoutingRule.name).where(RoutingRule.sla == name)).first()
        if rule is not None:
            raise _in_use(f"routing rule {rule!r} sets this policy", "in_use")
    before = _data(current.row(SettingKind.SLA, name))
    _delete(session, current, SettingKind.SLA, name, in_file)
    action = "sla_reset" if in_file else "sla_deleted"
    _audit(session, actor, action, "sla", name, before, current.file_entry(SettingKind.SLA, name))


def _template_key(language: str, name: str) -> str:
    if language not in LANGUAGES:
        message = f"templates are in {' or '.join(LANGUAGES)}"
        raise Rejected({"language": "unknown_language"}, message, messages={"language": message})
    if name not in templates.PLACEHOLDERS:
        raise NotFound(f"no template {name!r} that the console can edit")
    return f"{language}/{name}"


def save_template(
    session: Session, file: DeskConfig, language: str, name: str, text: str, actor: str
) -> None:
    key = _template_key(language, name)
    check_template(name, text)
    before = Overlaid(session, file).entry(SettingKind.TEMPLATE, key)
    _save(session, SettingKind.TEMPLATE, key, {"text": text}, actor)
    _audit(session, actor, "template_saved", "template", key, before, {"text": text})


def reset_template(
    session: Session, file: DeskConfig, language: str, name: str, actor: str
) -> None:
    """Drop the console's text: the file's (or the built-in) text is used again."""
    key = _template_key(language, name)
    current = Overlaid(session, file)
    before = _data(current.row(SettingKind.TEMPLATE, key))
    _delete(session, current, SettingKind.TEMPLATE, key, True)
    after = current.file_entry(SettingKind.TEMPLATE, key)
    _audit(session, actor, "template_reset", "template", key, before, after)


def _knowledge_entry(data: dict[str, Any], categories: Iterable[str]) -> KbEntry:
    entry = validated(KbEntry, data)
    _known([entry.category], categories, "category", "unknown_category")
    return entry


def _entry_exists(current: Overlaid, language: str, entry_id: str) -> tuple[bool, bool]:
    """(in the console, in the files) for one entry."""
    key = f"{language}/{entry_id}"
    in_file = any((e.language, e.id) == (language, entry_id) for e in _file_entries(current.file))
    return current.row(SettingKind.KNOWLEDGE, key) is not None, in_file


def create_knowledge(
    session: Session, file: DeskConfig, data: dict[str, Any], actor: str, categories: Iterable[str]
) -> KbEntry:
    """A new console entry; its id must be new in its language."""
    entry = _knowledge_entry(data, categories)
    current = Overlaid(session, file)
    if any(_entry_exists(current, entry.language, entry.id)):
        message = f"an entry {entry.id!r} exists in {entry.language}: change it with PUT"
        raise Rejected({"id": "already_exists"}, message, status=409, messages={"id": message})
    stored = entry.model_dump(mode="json", exclude={"id", "language"})
    key = f"{entry.language}/{entry.id}"
    _save(session, SettingKind.KNOWLEDGE, key, stored, actor)
    _audit(session, actor, "knowledge_created", "knowledge", key, None, stored)
    return entry


def save_knowledge(
    session: Session,
    file: DeskConfig,
    entry_id: str,
    data: dict[str, Any],
    actor: str,
    categories: Iterable[str],
) -> KbEntry:
    """Replace an entry (a file entry gets a console override)."""
    if data.get("id", entry_id) != entry_id:
        message = "an entry's id cannot change"
        raise Rejected({"id": "immutable"}, message, messages={"id": message})
    entry = _knowledge_entry(data | {"id": entry_id}, categories)
    current = Overlaid(session, file)
    if not any(_entry_exists(current, entry.language, entry_id)):
        raise NotFound(f"no knowledge entry {entry_id!r} in {entry.language}")
    key = f"{entry.language}/{entry_id}"
    before = current.entry(SettingKind.KNOWLEDGE, key)
    stored = entry.model_dump(mode="json", exclude={"id", "language"})
    _save(session, SettingKind.KNOWLEDGE, key, stored, actor)
    _audit(session, actor, "knowledge_saved", "knowledge", key, before, stored)
    return entry


def delete_knowledge(
    session: Session, file: DeskConfig, entry_id: str, language: str, actor: str
) -> None:
    """Delete a console entry, or reset a file entry's override."""
    current = Overlaid(session, file)
    _, in_file = _entry_exists(current, language, entry_id)
    key = f"{language}/{entry_id}"
    before = _data(current.row(SettingKind.KNOWLEDGE, key))
    _delete(session, current, SettingKind.KNOWLEDGE, key, in_file)
    action = "knowledge_reset" if in_file else "knowledge_deleted"
    after = current.file_entry(SettingKind.KNOWLEDGE, key)
    _audit(session, actor, action, "knowledge", key, before, after)


def _data(row: DeskSetting | None) -> dict[str, Any] | None:
    return dict(row.data) if row is not None else None


def _audit(
    session: Session,
    actor: str,
    action: str,
    target_type: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit line: the entry before and after (None: there was or is none)."""
    details: dict[str, Any] = {"before": before, "after": after}
    if before is not None and after is not None:
        details["changes"] = audit.changes(before, after)
    audit.record(session, actor, action, target_type, key, **details)
