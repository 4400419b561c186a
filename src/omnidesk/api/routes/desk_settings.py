"""/api/v1/settings: business hours, SLA policies, templates and the knowledge base.

Everyone signed in reads them; admins change them. The file's entries are read-only here; a
console entry of the same name overrides one, and deleting it resets the entry to the file's.
Every process sees a change within seconds, without a restart (services.settings_overlay).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, status
from sqlmodel import Session

from omnidesk.api.admin_schemas import HoursOut, KnowledgeOut, TemplateIn, TemplateOut
from omnidesk.api.deps import AdminAgent, CurrentAgent, SessionDep, desk_of
from omnidesk.api.routes.requests import triage_config
from omnidesk.api.schemas import PROBLEMS
from omnidesk.config_file import DeskConfig
from omnidesk.services import desk_settings
from omnidesk.triage.config import TriageConfig

router = APIRouter(prefix="/settings", tags=["desk settings"], responses=PROBLEMS)
Triage = Annotated[TriageConfig, Depends(triage_config)]
Language = Annotated[str, Query(pattern="^(zh|en)$", description="The entry's language")]
HoursBody = Annotated[
    dict[str, Any],
    Body(
        description="The fields of a [[hours]] table (checked like the config file's)",
        examples=[
            {
                "time_zone": "Asia/Shanghai",
                "opens": "09:00",
                "closes": "18:00",
                "workdays": ["mon", "tue", "wed", "thu", "fri"],
                "calendar": "cn",
                "holidays": ["2027-01-04"],
                "extra_workdays": [],
            }
        ],
    ),
]
SlaBody = Annotated[
    dict[str, Any],
    Body(
        description="The fields of an [[sla]] table (checked like the config file's)",
        examples=[
            {
                "priority": "high",
                "category": None,
                "first_response": "1h",
                "resolution": "1d",
                "clock": "business",
                "hours": None,
            }
        ],
    ),
]
EntryBody = Annotated[
    dict[str, Any],
    Body(
        description="A knowledge entry as in config/knowledge/*.toml, with its language",
        examples=[
            {
                "id": "gift-wrap",
                "language": "en",
                "category": None,
                "title": "Gift wrapping",
                "questions": ["do you gift wrap", "can you wrap my order as a gift"],
                "answer": "Yes: choose gift wrapping at checkout.",
                "short_answer": "Yes, choose gift wrapping at checkout.",
            }
        ],
    ),
]


def _file(request: Request) -> DeskConfig:
    return desk_of(request).file_config


def _overlaid(session: Session, request: Request) -> desk_settings.Overlaid:
    return desk_settings.Overlaid(session, _file(request))


def _hours_out(session: Session, request: Request, name: str) -> HoursOut:
    rows = desk_settings.hours_rows(_overlaid(session, request))
    return HoursOut.model_validate(next(h for h in rows if h["name"] == name))


@router.get("/hours")
def business_hours(me: CurrentAgent, session: SessionDep, request: Request) -> list[HoursOut]:
    """Opening hours by name (teams refer to them), with holidays and extra workdays."""
    rows = desk_settings.hours_rows(_overlaid(session, request))
    return [HoursOut.model_validate(h) for h in rows]


@router.put("/hours/{name}")
def save_hours(
    name: str, body: HoursBody, me: AdminAgent, session: SessionDep, request: Request
) -> HoursOut:
    """Create or replace hours (over the file's of the same name); errors keyed by field."""
    desk_settings.save_hours(session, _file(request), name, body, me.username)
    return _hours_out(session, request, name)


@router.delete("/hours/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_hours(name: str, me: AdminAgent, session: SessionDep, request: Request) -> None:
    """Delete console hours or reset an override to the file's; 409 for the file's own hours
    and for hours a team or an SLA policy still uses."""
    desk_settings.delete_hours(session, _file(request), name, me.username)


@router.get("/sla")
def sla_policies(me: CurrentAgent, session: SessionDep, request: Request) -> list[dict[str, Any]]:
    """SLA policies: first-response and resolution targets by priority and category."""
    return desk_settings.sla_rows(_overlaid(session, request))


@router.put("/sla/{name}")
def save_sla(
    name: str,
    body: SlaBody,
    me: AdminAgent,
    session: SessionDep,
    request: Request,
    triage: Triage,
) -> dict[str, Any]:
    """Create or replace an SLA policy (over the file's of the same name)."""
    file = _file(request)
    desk_settings.save_sla(session, file, name, body, me.username, triage.category_names)
    rows = desk_settings.sla_rows(_overlaid(session, request))
    return next(p for p in rows if p["name"] == name)


@router.delete("/sla/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_sla(name: str, me: AdminAgent, session: SessionDep, request: Request) -> None:
    """Delete a console SLA policy or reset an override; 409 for the file's own policies and
    for a policy a routing rule sets."""
    desk_settings.delete_sla(session, _file(request), name, me.username)


@router.get("/templates")
def reply_templates(me: CurrentAgent, session: SessionDep, request: Request) -> list[TemplateOut]:
    """Reply templates in zh and en: the console's text, else config/templates', else built in."""
    rows = desk_settings.template_rows(_overlaid(session, request))
    return [TemplateOut.model_validate(t) for t in rows]


def _template_out(session: Session, request: Request, language: str, name: str) -> TemplateOut:
    rows = desk_settings.template_rows(_overlaid(session, request))
    return TemplateOut.model_validate(
        next(t for t in rows if (t["language"], t["name"]) == (language, name))
    )


@router.put("/templates/{language}/{name}")
def save_template(
    language: str,
    name: str,
    body: TemplateIn,
    me: AdminAgent,
    session: SessionDep,
    request: Request,
) -> TemplateOut:
    """Change a template's text; 422 for a placeholder the template is not filled with."""
    desk_settings.save_template(session, _file(request), language, name, body.text, me.username)
    return _template_out(session, request, language, name)


@router.delete("/templates/{language}/{name}", status_code=status.HTTP_204_NO_CONTENT)
def reset_template(
    language: str, name: str, me: AdminAgent, session: SessionDep, request: Request
) -> None:
    """Go back to the file's (or the built-in) text."""
    desk_settings.reset_template(session, _file(request), language, name, me.username)


@router.get("/knowledge")
def knowledge_base(me: CurrentAgent, session: SessionDep, request: Request) -> KnowledgeOut:
    """The knowledge base's entries and thresholds."""
    return KnowledgeOut.model_validate(desk_settings.knowledge(_overlaid(session, request)))


def _entry_out(session: Session, request: Request, language: str, entry_id: str) -> dict[str, Any]:
    entries = desk_settings.knowledge(_overlaid(session, request))["entries"]
    return next(e for e in entries if (e["language"], e["id"]) == (language, entry_id))


@router.post("/knowledge", status_code=status.HTTP_201_CREATED)
def create_entry(
    body: EntryBody, me: AdminAgent, session: SessionDep, request: Request, triage: Triage
) -> dict[str, Any]:
    """A new knowledge entry (checked like the files' entries, SMS length included)."""
    file, categories = _file(request), triage.category_names
    entry = desk_settings.create_knowledge(session, file, body, me.username, categories)
    return _entry_out(session, request, entry.language, entry.id)


@router.put("/knowledge/{entry_id}")
def save_entry(
    entry_id: str,
    body: EntryBody,
    me: AdminAgent,
    session: SessionDep,
    request: Request,
    triage: Triage,
) -> dict[str, Any]:
    """Replace the entry of this id in the body's language (a file entry gets an override)."""
    file, categories = _file(request), triage.category_names
    entry = desk_settings.save_knowledge(session, file, entry_id, body, me.username, categories)
    return _entry_out(session, request, entry.language, entry.id)


@router.delete("/knowledge/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_entry(
    entry_id: str, language: Language, me: AdminAgent, session: SessionDep, request: Request
) -> None:
    """Delete a console entry, or reset a file entry to the file's text; 409 for a file entry
    without an override."""
    desk_settings.delete_knowledge(session, _file(request), entry_id, language, me.username)
