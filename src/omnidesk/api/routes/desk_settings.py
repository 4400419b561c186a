"""/api/v1/settings: business hours, SLA policies, templates and the knowledge base (read-only).

They come from the config file for now; editing them in the console is still to come.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from omnidesk.api.admin_schemas import HoursOut, KnowledgeOut, TemplateOut
from omnidesk.api.deps import CurrentAgent, desk_of
from omnidesk.services import desk_settings

router = APIRouter(prefix="/settings", tags=["desk settings"])


@router.get("/hours")
def business_hours(me: CurrentAgent, request: Request) -> list[HoursOut]:
    """Opening hours by name (teams refer to them), with holidays and extra workdays."""
    return [HoursOut.model_validate(h) for h in desk_settings.hours(desk_of(request).config)]


@router.get("/sla")
def sla_policies(me: CurrentAgent, request: Request) -> list[dict[str, Any]]:
    """SLA policies: first-response and resolution targets by priority and category."""
    return desk_settings.sla(desk_of(request).config)


@router.get("/templates")
def reply_templates(me: CurrentAgent, request: Request) -> list[TemplateOut]:
    """Reply templates in zh and en (built-in defaults unless config/templates overrides)."""
    rows = desk_settings.template_rows(desk_of(request).config)
    return [TemplateOut.model_validate(t) for t in rows]


@router.get("/knowledge")
def knowledge_base(me: CurrentAgent, request: Request) -> KnowledgeOut:
    """The knowledge base's entries and thresholds."""
    return KnowledgeOut.model_validate(desk_settings.knowledge(desk_of(request).config))
