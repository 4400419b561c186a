"""The survey as each channel carries it, in zh and en.

SMS (and a phone request's SMS) stays within two segments: a reply "1"–"5" is asked for, with the
opt-out word. WeChat and Weibo list the five answers (Weibo allows under 300 characters). Email
carries five one-click links and says a reply with a score works too. A file
`config/templates/{zh,en}/survey_{sms,chat,email}.txt` replaces the built-in text (same
`$placeholders`; the email's `$links` is the list of links).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from string import Template

SCORE_LABELS: dict[str, dict[int, str]] = {
    "zh": {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"},
    "en": {5: "Very good", 4: "Good", 3: "Average", 2: "Poor", 1: "Very poor"},
}
SMS_CHANNELS = frozenset({"twilio", "sms", "voice"})
CHAT_CHANNELS = frozenset({"wechat", "weibo"})
EMAIL_CHANNELS = frozenset({"email"})
SURVEYED_CHANNELS = SMS_CHANNELS | CHAT_CHANNELS | EMAIL_CHANNELS

DEFAULTS: dict[tuple[str, str], str] = {
    ("zh", "survey_sms"): (
        "【$desk_name】您的请求#$request_id已处理完毕。请回复1-5为服务打分"
        "（5非常满意，1非常不满意），可附意见。回TD退订"
    ),
    ("en", "survey_sms"): (
        "$desk_name: request #$request_id is resolved. How did we do? Reply 1-5 "
        "(5 very good, 1 very poor); comments welcome. Reply STOP to opt out."
    ),
    ("zh", "survey_chat"): (
        "您好，您的请求 #$request_id 已处理完毕。请回复数字为本次服务打分：\n$choices\n"
        "也欢迎写下您的意见。——$desk_name"
    ),
    ("en", "survey_chat"): (
        "Hello, your request #$request_id is resolved. How did we do? Reply with a number:\n"
        "$choices\nComments are welcome too. — $desk_name"
    ),
    ("zh", "survey_email"): (
        "您好，\n\n您的请求 #$request_id 已处理完毕。"
        "请点击下面的链接为本次服务评分（无需登录）：\n\n$links\n\n"
        "也可以直接回复本邮件，写下 1-5 的分数和您的意见。链接 $days 天内有效。\n\n$desk_name"
    ),
    ("en", "survey_email"): (
        "Hello,\n\nYour request #$request_id is resolved. How did we do? Click one of these links "
        "(no login needed):\n\n$links\n\nOr reply to this mail with a score from 1 to 5 and any "
        "comment. The links work for $days days.\n\n$desk_name"
    ),
    ("zh", "survey_email_subject"): "请为本次服务评分（请求 #$request_id）",
    ("en", "survey_email_subject"): "How did we do? (request #$request_id)",
}


@dataclass(frozen=True)
class SurveyText:
    subject: str | None
    text: str
    html: str | None = None


def build(
    channel: str,
    language: str,
    values: dict[str, object],
    links: dict[int, str] | None = None,
    base: Path | None = None,
) -> SurveyText:
    """The survey for `channel` in `language` (zh or en); `links` (score → URL) for email."""
    lang = language if language in SCORE_LABELS else "zh"
    labels = SCORE_LABELS[lang]
    if channel in EMAIL_CHANNELS:
        return _email(lang, values, links or {}, base)
    if channel in CHAT_CHANNELS:
        choices = "\n".join(f"{score} {labels[score]}" for score in range(5, 0, -1))
        return SurveyText(None, _fill(base, lang, "survey_chat", values | {"choices": choices}))
    return SurveyText(None, _fill(base, lang, "survey_sms", values))


def _email(
    lang: str, values: dict[str, object], links: dict[int, str], base: Path | None
) -> SurveyText:
    labels = SCORE_LABELS[lang]
    sep = "：" if lang == "zh" else ":"  # a space before each link, so mail clients see it
    listed = "\n".join(f"{s} {labels[s]}{sep} {links[s]}" for s in sorted(links, reverse=True))
    text = _fill(base, lang, "survey_email", values | {"links": listed})
    subject = _fill(base, lang, "survey_email_subject", values)
    return SurveyText(subject, text, _email_html(text, links, labels))


def _email_html(text: str, links: dict[int, str], labels: dict[int, str]) -> str:
    """The text as HTML paragraphs, with the list of links as five buttons."""
    buttons = "".join(
        f'<a href="{html.escape(links[s])}" style="display:inline-block;margin:4px;padding:8px '
        f'12px;border:1px solid #888;border-radius:6px;color:#222;text-decoration:none">'
        f"{s} {html.escape(labels[s])}</a>"
        for s in sorted(links, reverse=True)
    )
    paragraphs = []
    for block in text.split("\n\n"):
        if any(url in block for url in links.values()):
            paragraphs.append(f"<p>{buttons}</p>")
        else:
            lines = "<br>".join(html.escape(line) for line in block.split("\n"))
            paragraphs.append(f"<p>{lines}</p>")
    body = "".join(paragraphs)
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


def _fill(base: Path | None, lang: str, key: str, values: dict[str, object]) -> str:
    path = base / lang / f"{key}.txt" if base is not None else None
    text = path.read_text(encoding="utf-8") if path and path.is_file() else DEFAULTS[(lang, key)]
    return Template(text).safe_substitute({k: str(v) for k, v in values.items()}).strip()
