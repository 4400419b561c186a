"""Email threading helpers: subject tags, prefixes, Message-IDs, reply headers (protocols 4.4)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

# Our tag, as reply_subject writes it: "[#1234]".
_TAG = re.compile(r"\[#(\d{1,18})\]")
# Reply and forward prefixes of English, Chinese, Outlook-localised and German/Nordic mailers,
# with an optional counter ("Re[2]:", "RE^2:") and a full-width colon. Not \s*(counter)?\s*:
# two runs of white space around an optional part backtrack quadratically.
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|sv|vs|wg|回复|回覆|答复|转发|轉寄|转寄)\s*(?:(?:\[\d+\]|\^\d+)\s*)?[:：]\s*",
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_SPACES = re.compile(r"\s+")
# Long threads: keep the first id and the latest ones, as Thunderbird and Mutt do.
MAX_REFERENCES = 20


def subject_tag(subject: str | None) -> int | None:
    """Return the request id of the last `[#1234]` tag in a subject, or None."""
    tags = _TAG.findall(subject or "")
    return int(tags[-1]) if tags else None


def normalise_subject(subject: str | None) -> str:
    """Strip our tags and every leading Re:/Fwd:/回复:/转发: prefix; collapse white space."""
    text = _SPACES.sub(" ", _TAG.sub(" ", subject or "")).strip()
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped.strip()


def reply_subject(original_subject: str | None, request_id: int) -> str:
    """Return `Re: <original without tags or prefixes> [#<request_id>]`."""
    return " ".join(
        part for part in ("Re:", normalise_subject(original_subject), f"[#{request_id}]") if part
    )


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ids in a Message-ID, In-Reply-To or References value, without angle brackets.

    A value without brackets (some webmails) is split on white space.
    """
    if not value:
        return ()
    found = _MESSAGE_ID.findall(value)
    if not found and "@" in value:
        found = [token for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(found))


def reply_headers(
    parent_message_id: str,
    parent_references: Iterable[str] | str | None,
    *,
    parent_in_reply_to: str | None = None,
) -> tuple[str, str]:
    """Return the `In-Reply-To` and `References` header values for a reply (RFC 5322 3.6.4).

    References are the parent's References (or, when it has none, its single In-Reply-To)
    followed by the parent's Message-ID. Ids may be given with or without angle brackets.
    """
    parent = _bare(parent_message_id)
    if isinstance(parent_references, str):
        earlier = list(message_ids(parent_references))
    else:
        earlier = [_bare(ref) for ref in parent_references or ()]
    if not earlier and parent_in_reply_to:
        earlier = list(message_ids(parent_in_reply_to))[:1]
    chain = [ref for ref in dict.fromkeys(earlier) if ref != parent] + [parent]
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    return f"<{parent}>", " ".join(f"<{ref}>" for ref in chain)


def make_message_id(request_id: int | str, domain: str) -> str:
    """Return a new Message-ID for a reply on a request: `<{request_id}.{uuid hex}@{domain}>`."""
    return f"<{request_id}.{uuid.uuid4().hex}@{domain}>"


def _bare(message_id: str) -> str:
    return message_id.strip().removeprefix("<").removesuffix(">").strip()
