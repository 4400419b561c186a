"""Reply templates in zh and en: files under config/templates/{lang}/, with built-in defaults."""

from __future__ import annotations

from pathlib import Path
from string import Template

SHORT_CHANNELS = frozenset({"twilio", "sms", "wechat", "weibo", "webchat", "voice"})

DEFAULTS: dict[tuple[str, str], str] = {
    ("zh", "acknowledgement_short"): (
        "【$desk_name】已收到您的消息，请求号 #$request_id。$when$complaint"
    ),
    ("en", "acknowledgement_short"): (
        "$desk_name: we got your message (request #$request_id). $when$complaint"
    ),
    ("zh", "acknowledgement"): (
        "您好，\n\n感谢您联系$desk_name。我们已收到您的请求，请求号为 #$request_id。"
        "$complaint\n$when回复本邮件即可补充信息。\n\n$desk_name"
    ),
    ("en", "acknowledgement"): (
        "Hello,\n\nThank you for contacting $desk_name. We have received your request "
        "#$request_id.$complaint\n$when Reply to this mail to add anything.\n\n$desk_name"
    ),
    ("zh", "when_open"): "客服会尽快回复您。",
    ("en", "when_open"): "An agent will reply soon.",
    ("zh", "when_closed"): "人工客服将于$next_opening后回复您。",
    ("en", "when_closed"): "An agent will answer after $next_opening.",
    ("zh", "complaint_note"): "您的投诉编号：$complaint_ref。",
    ("en", "complaint_note"): " Your complaint reference: $complaint_ref.",
    ("zh", "answer_footer"): "（请求号 #$request_id）",
    ("en", "answer_footer"): "(Request #$request_id)",
    ("zh", "human_requested"): "好的，已为您转接人工客服（请求号 #$request_id）。$when",
    ("en", "human_requested"): "OK, a person will take over (request #$request_id). $when",
    ("zh", "complaint_status"): (
        "【$desk_name】您的投诉（编号 $complaint_ref）状态更新：$status。如有疑问请直接回复。"
    ),
    ("en", "complaint_status"): (
        "$desk_name: your complaint $complaint_ref is now $status. Reply to this message "
        "with any question."
    ),
}


def phrase(name: str, language: str | None, values: dict[str, object]) -> str:
    """A built-in phrase (no file override), filled in."""
    lang = language if language in ("zh", "en") else "zh"
    return Template(DEFAULTS[(lang, name)]).safe_substitute({k: str(v) for k, v in values.items()})


def render(
    name: str, language: str | None, channel: str, values: dict[str, object], base: Path | None
) -> str:
    """Render template `name` (short form on chat-like channels) in zh or en."""
    lang = language if language in ("zh", "en") else "zh"
    key = (
        f"{name}_short"
        if channel in SHORT_CHANNELS and (lang, f"{name}_short") in DEFAULTS
        else name
    )
    text = _from_file(base, lang, key) or DEFAULTS[(lang, key)]
    return Template(text).safe_substitute({k: str(v) for k, v in values.items()}).strip()


def _from_file(base: Path | None, lang: str, key: str) -> str | None:
    if base is None:
        return None
    path = base / lang / f"{key}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None
