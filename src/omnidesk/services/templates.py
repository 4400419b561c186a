"""Reply templates in zh and en: files under config/templates/{lang}/, with built-in defaults."""

from __future__ import annotations

from collections.abc import Mapping
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


# The values each template is filled with (respond.py, status.py): an admin's text may use
# these placeholders and no others (services.desk_settings refuses the rest).
_ACK_VALUES = frozenset({"request_id", "desk_name", "when", "complaint"})
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "acknowledgement": _ACK_VALUES,
    "acknowledgement_short": _ACK_VALUES,
    "when_open": frozenset(),
    "when_closed": frozenset({"next_opening"}),
    "complaint_note": frozenset({"complaint_ref"}),
    "answer_footer": frozenset({"request_id"}),
    "human_requested": _ACK_VALUES,
    "complaint_status": frozenset({"complaint_ref", "request_id", "status", "desk_name"}),
}

Overrides = Mapping[tuple[str, str], str]


def phrase(
    name: str, language: str | None, values: dict[str, object], overrides: Overrides | None = None
) -> str:
    """A built-in phrase (no file override; the console's `overrides` do apply), filled in."""
    lang = language if language in ("zh", "en") else "zh"
    text = (overrides or {}).get((lang, name)) or DEFAULTS[(lang, name)]
    return Template(text).safe_substitute({k: str(v) for k, v in values.items()})


def render(
    name: str,
    language: str | None,
    channel: str,
    values: dict[str, object],
    base: Path | None,
    overrides: Overrides | None = None,
) -> str:
    """Render template `name` (short form on chat-like channels) in zh or en.

    The text is the console's (`overrides`, by (language, name)), else config/templates', else
    the built-in default.
    """
    lang = language if language in ("zh", "en") else "zh"
    key = (
        f"{name}_short"
        if channel in SHORT_CHANNELS and (lang, f"{name}_short") in DEFAULTS
        else name
    )
    text = (
        (overrides or {}).get((lang, key)) or _from_file(base, lang, key) or DEFAULTS[(lang, key)]
    )
    return Template(text).safe_substitute({k: str(v) for k, v in values.items()}).strip()


def _from_file(base: Path | None, lang: str, key: str) -> str | None:
    if base is None:
        return None
    path = base / lang / f"{key}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None
