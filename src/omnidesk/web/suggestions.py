"""GET /api/v1/requests/{id}/suggestions: knowledge-base answers and canned replies to start from.

The knowledge base ranks the customer's latest messages (`KnowledgeBase.rank`) among the
request's category first, then among every entry; the agent picks, edits and sends.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import Session, col, select

from omnidesk.api.deps import CurrentAgent, SessionDep, desk_of, visible_request
from omnidesk.config_file import DeskConfig
from omnidesk.errors import ConfigError
from omnidesk.models import Agent, Customer, Direction, Message
from omnidesk.models import Request as DeskRequest
from omnidesk.services.answers import knowledge_source, load_knowledge
from omnidesk.services.knowledge import KbMatch, KnowledgeBase
from omnidesk.triage.language import detect_language
from omnidesk.web import canned

MAX_SUGGESTIONS = 3
MIN_SCORE = 0.05
RECENT_MESSAGES = 3

router = APIRouter(tags=["web"])


class KnowledgeSuggestion(BaseModel):
    id: str
    title: str
    answer: str
    short_answer: str | None
    category: str | None
    score: float


class CannedReply(BaseModel):
    name: str
    text: str


class Suggestions(BaseModel):
    language: str
    knowledge: list[KnowledgeSuggestion]
    templates: list[CannedReply]
    knowledge_error: str | None = None


def knowledge_base(request: Request) -> tuple[KnowledgeBase | None, str | None]:
    """The desk's knowledge base, indexed once per app and again after the console edits it
    (indexing takes a moment)."""
    state = request.app.state
    config = desk_of(request).config
    source = knowledge_source(config)
    cached = getattr(state, "web_knowledge", None)
    if cached is None or cached[0] != source:
        try:
            state.web_knowledge = (source, load_knowledge(config), None)
        except ConfigError as exc:
            state.web_knowledge = (source, None, str(exc))
    return state.web_knowledge[1], state.web_knowledge[2]


def customer_text(session: Session, request_id: int) -> str:
    """The customer's latest few messages of the request, oldest first."""
    texts = session.exec(
        select(Message.text)
        .where(Message.request_id == request_id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id).desc())
        .limit(RECENT_MESSAGES)
    ).all()
    return "\n".join(reversed(texts))


def ranked(kb: KnowledgeBase, text: str, category: str | None, language: str) -> list[KbMatch]:
    """The best entries: the category's (and category-free ones) first, then any other."""
    best: dict[str, KbMatch] = {}
    for match in kb.rank(text, category, language) + kb.rank(text, None, language):
        if match.score >= MIN_SCORE and match.id not in best:
            best[match.id] = match
        if len(best) == MAX_SUGGESTIONS:
            break
    return sorted(best.values(), key=lambda m: m.score, reverse=True)


def _values(
    session: Session, found: DeskRequest, username: str, config: DeskConfig
) -> dict[str, Any]:
    customer = session.get(Customer, found.customer_id)
    agent = session.exec(select(Agent).where(Agent.username == username)).first()
    english = found.language == "en"
    return {
        "customer_name": customer.display_name if customer and customer.display_name else "",
        "request_id": found.id,
        "agent_name": (agent.display_name if agent and agent.display_name else username),
        "desk_name": config.desk.name_en if english else config.desk.name,
        "complaint_ref": found.complaint_ref or "",
    }


@router.get("/api/v1/requests/{request_id}/suggestions")
def suggestions(
    request_id: int, me: CurrentAgent, session: SessionDep, request: Request
) -> Suggestions:
    """Up to three knowledge-base answers for the customer's words, and the canned replies."""
    found = visible_request(session, request_id, me)
    config = desk_of(request).config
    text = customer_text(session, request_id)
    language = found.language or (detect_language(text) if text else config.desk.default_language)
    language = language if language in ("zh", "en") else "zh"
    kb, error = knowledge_base(request)
    matches = ranked(kb, text, found.category, language) if kb is not None and text else []
    base = config.path.parent / "templates" if config.path is not None else None
    return Suggestions(
        language=language,
        knowledge=[KnowledgeSuggestion.model_validate(m, from_attributes=True) for m in matches],
        templates=canned.templates(language, _values(session, found, me.username, config), base),
        knowledge_error=error,
    )
