"""The desk's configuration as the console shows it: hours, SLA policies, templates, knowledge.

Read-only for now: these come from the config file (and config/templates, config/knowledge).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omnidesk.config_file import DeskConfig
from omnidesk.errors import ConfigError
from omnidesk.services import templates


def hours(config: DeskConfig) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "time_zone": h.time_zone,
            "opens": h.opens.strftime("%H:%M"),
            "closes": h.closes.strftime("%H:%M"),
            "workdays": sorted(h.workdays),
            "holidays": sorted(h.holidays),
            "extra_workdays": sorted(h.extra_workdays),
        }
        for name, h in sorted(config.hours.items())
    ]


def sla(config: DeskConfig) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in config.sla]


def template_rows(config: DeskConfig) -> list[dict[str, Any]]:
    """Every template in zh and en: the file's text where config/templates has one."""
    base = config.path.parent / "templates" if config.path else None
    keys = set(templates.DEFAULTS)
    if base is not None and base.is_dir():
        keys |= {(p.parent.name, p.stem) for p in base.glob("*/*.txt")}
    rows = []
    for language, name in sorted(keys):
        path = base / language / f"{name}.txt" if base is not None else None
        from_file = path is not None and path.is_file()
        if path is not None and from_file:
            text = path.read_text(encoding="utf-8")
        else:
            text = templates.DEFAULTS.get((language, name), "")
        rows.append(
            {
                "name": name,
                "language": language,
                "text": text,
                "source": "file" if from_file else "default",
            }
        )
    return rows


def knowledge(config: DeskConfig) -> dict[str, Any]:
    """The knowledge base's settings and entries (or why they cannot be read)."""
    from omnidesk.services.answers import Answerer

    out: dict[str, Any] = {
        "enabled": config.knowledge.enabled,
        "directory": str(Path(config.knowledge.directory)),
        "thresholds": dict(config.knowledge.thresholds),
        "entries": [],
        "error": None,
    }
    try:
        base = Answerer.from_config(config).knowledge
    except ConfigError as exc:
        return out | {"error": str(exc)}
    if base is not None:
        out["entries"] = [e.model_dump(mode="json") for e in base.entries]
    return out
