"""The public survey page of the email links: `/survey/{token}`, bilingual, no login.

GET with `?score=N` records that score at once (the email's one-click links; clicking again
changes nothing) and offers a comment box; GET without a score shows the five choices. POST
records the chosen score and comment. An altered link gets 400 "this link is not valid", an
expired one 410 "this link has expired". Every text from outside is escaped; the token is the
only credential, so the page is never cached and sends no Referer.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from omnidesk.db import unit_of_work
from omnidesk.errors import ConfigError
from omnidesk.services import surveys
from omnidesk.services.survey_text import SCORE_LABELS
from omnidesk.settings import Settings

router = APIRouter(include_in_schema=False)

MAX_FORM_BYTES = 16 * 1024
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}
WORDS = {
    "title": {"zh": "服务评价", "en": "How did we do?"},
    "ask": {
        "zh": "请为我们对请求 #{id} 的服务打分：",
        "en": "Please rate our service on request #{id}:",
    },
    "comment": {"zh": "意见（可选）", "en": "Comment (optional)"},
    "send": {"zh": "提交", "en": "Send"},
    "thanks": {"zh": "感谢您的评价：{score} 分。", "en": "Thank you for your rating: {score}/5."},
    "more": {"zh": "还想告诉我们什么吗？", "en": "Anything else you would like to tell us?"},
    "choose": {"zh": "请选择 1 到 5 分。", "en": "Please choose a score from 1 to 5."},
    "invalid": {"zh": "此链接无效。", "en": "This link is not valid."},
    "expired": {"zh": "此链接已过期。", "en": "This link has expired."},
    "unavailable": {"zh": "评价暂时无法提交。", "en": "Ratings cannot be taken right now."},
}


@dataclass(frozen=True)
class Outcome:
    """What the page shows: a form, a thank-you, or why the link cannot be used."""

    view: str  # "choose", "thanks", "invalid", "expired", "unavailable"
    status: int = 200
    language: str = "zh"
    request_id: int | None = None
    score: int | None = None
    comment: str | None = None
    note: str | None = None  # "choose": a score is missing


@router.get("/survey/{token}")
async def survey_page(request: Request, token: str, score: str | None = None) -> HTMLResponse:
    """Show the survey; with a valid `score`, record it first (one click)."""
    settings: Settings = request.app.state.settings
    chosen = _score(score)
    use = _answering(token, chosen, None) if chosen else _looking(token)
    outcome = await run_in_threadpool(_with_link, settings, use)
    return _render(outcome, request.url.path)


@router.post("/survey/{token}")
async def survey_answer(request: Request, token: str) -> HTMLResponse:
    """Record the posted score and comment (the same answer twice is stored once)."""
    settings: Settings = request.app.state.settings
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _render(Outcome("invalid", 413), request.url.path)
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    chosen = _score((form.get("score") or [None])[0])
    comment = (form.get("comment") or [""])[0]
    use = _answering(token, chosen, comment) if chosen else _looking(token, missing=True)
    outcome = await run_in_threadpool(_with_link, settings, use)
    return _render(outcome, request.url.path)


def _score(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text in {"1", "2", "3", "4", "5"} else None


LinkUse = Callable[[Session, surveys.LinkSigner], Outcome]


def _with_link(settings: Settings, use: LinkUse) -> Outcome:
    """Run `use` in one transaction; a bad or expired link becomes its page."""
    try:
        signer = surveys.LinkSigner.from_settings(settings)
        with unit_of_work(settings) as session:
            return use(session, signer)
    except surveys.InvalidLink:
        return Outcome("invalid", 400)
    except surveys.ExpiredLink:
        return Outcome("expired", 410)
    except ConfigError:
        return Outcome("unavailable", 503)


def _looking(token: str, missing: bool = False) -> LinkUse:
    def use(session: Session, signer: surveys.LinkSigner) -> Outcome:
        survey = surveys.survey_for_link(session, signer, token)
        status, note = (422, "choose") if missing else (200, None)
        return Outcome(
            "choose", status, survey.language, survey.request_id, survey.score, None, note
        )

    return use


def _answering(token: str, score: int, comment: str | None) -> LinkUse:
    def use(session: Session, signer: surveys.LinkSigner) -> Outcome:
        survey, _ = surveys.answer_from_link(session, signer, token, score, comment)
        lang, request_id = survey.language, survey.request_id
        return Outcome("thanks", 200, lang, request_id, survey.score, survey.comment)

    return use


def _render(outcome: Outcome, action: str) -> HTMLResponse:
    langs = ("en", "zh") if outcome.language == "en" else ("zh", "en")
    if outcome.view in ("invalid", "expired", "unavailable"):
        body = "".join(f"<p>{_word(outcome.view, lang)}</p>" for lang in langs)
    elif outcome.view == "thanks":
        body = _thanks(outcome, langs, action)
    else:
        body = _choose(outcome, langs, action)
    title = " · ".join(_word("title", lang) for lang in langs)
    page = (
        f'<!DOCTYPE html><html lang="{langs[0]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(page, status_code=outcome.status, headers=HEADERS)


def _word(key: str, lang: str, **values: object) -> str:
    return html.escape(WORDS[key][lang].format(**values))


def _thanks(outcome: Outcome, langs: tuple[str, ...], action: str) -> str:
    said = "".join(f"<p>{_word('thanks', lang, score=outcome.score)}</p>" for lang in langs)
    ask = " / ".join(_word("more", lang) for lang in langs)
    hidden = f'<input type="hidden" name="score" value="{outcome.score}">'
    return said + _form(action, langs, hidden, outcome.comment, f"<p>{ask}</p>")


def _choose(outcome: Outcome, langs: tuple[str, ...], action: str) -> str:
    ask = "".join(f"<p>{_word('ask', lang, id=outcome.request_id)}</p>" for lang in langs)
    note = ""
    if outcome.note:
        note = '<p class="note">' + " / ".join(_word("choose", lang) for lang in langs) + "</p>"
    options = "".join(
        f'<label><input type="radio" name="score" value="{s}"'
        f"{' checked' if outcome.score == s else ''}> {s} "
        + " / ".join(html.escape(SCORE_LABELS[lang][s]) for lang in langs)
        + "</label>"
        for s in range(5, 0, -1)
    )
    return ask + note + _form(action, langs, f'<div class="scores">{options}</div>', None, "")


def _form(action: str, langs: tuple[str, ...], fields: str, comment: str | None, lead: str) -> str:
    label = " / ".join(_word("comment", lang) for lang in langs)
    send = " / ".join(_word("send", lang) for lang in langs)
    text = html.escape(comment or "")
    return (
        f'<form method="post" action="{html.escape(action)}">{lead}{fields}'
        f'<label for="comment">{label}</label>'
        f'<textarea id="comment" name="comment" maxlength="2000" rows="4">{text}</textarea>'
        f'<button type="submit">{send}</button></form>'
    )


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;background:#f5f5f5;color:#222}"
    "main{max-width:32rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:8px}"
    "h1{font-size:1.3rem}label{display:block;margin:.4rem 0}textarea{width:100%}"
    "button{margin-top:.8rem;padding:.5rem 1.2rem}.note{color:#b00}"
)
