"""Separate what the customer just wrote from quoted history and signatures."""

from __future__ import annotations

import re

# A line that opens the quoted original (Outlook en/zh, QQ Mail/Foxmail, 163, Gmail forwards).
_SEPARATOR = re.compile(
    r"^-{2,}\s*(?:Original Message|Original|Forwarded message|Replied Message"
    r"|原始邮件|邮件原件|回复的原邮件|转发邮件|转发的邮件)\s*-{2,}$",
    re.IGNORECASE,
)
# Gmail and Thunderbird attributions; Gmail wraps long ones over two or three lines.
_ATTRIBUTION = re.compile(r"^(?:On\b.{0,300}\bwrote|在.{0,300}写道)\s*[:：]$", re.DOTALL)
# Outlook/Foxmail header blocks: "From:" then "Sent:"/"Date:" within a few lines.
_BLOCK_FROM = re.compile(r"^\*?(?:From|发件人|寄件者)\*?\s*[:：]", re.IGNORECASE)
_BLOCK_DATE = re.compile(r"^\*?(?:Sent|Date|发送时间|时间|日期|寄件日期)\*?\s*[:：]", re.IGNORECASE)
# The rule Outlook draws above its header block.
_RULE = re.compile(r"^(?:_{8,}|-{8,})$")
_QUOTED = re.compile(r"^\s*>")
# Mobile clients' fixed footers, dropped when they end the new text.
_FOOTERS = re.compile(
    r"^(?:Sent from my (?:iPhone|iPad|Android|phone)|Get Outlook for (?:iOS|Android)"
    r"|发自我的\s?(?:iPhone|iPad|手机|华为手机|小米手机)|来自我的\s?(?:iPhone|手机)"
    r"|发自网易邮箱大师|从网易邮箱大师发来的云邮件|发自QQ邮箱手机版)$",
    re.IGNORECASE,
)
_BLANK_RUN = re.compile(r"\n{3,}")
_BLOCK_WINDOW = 4
_ATTRIBUTION_LINES = 3


def new_text(text: str) -> str:
    """Return the part of a plain-text body the sender wrote now, without history or signature.

    Top posting: everything before the first history marker. Bottom posting and inline answers:
    the lines that are not `> ` quoted. Returns "" when the sender added nothing (a bare forward).
    """
    lines = [line.rstrip() for line in text.splitlines()]
    start, width = _history_start(lines)
    head = [line for line in lines[:start] if not _QUOTED.match(line)]
    if not _has_content(head) and width:
        # Attribution then quotes then the answer: bottom posting.
        head = [line for line in lines[start + width :] if not _QUOTED.match(line)]
    return tidy(_without_footer(_without_signature(head)))


def tidy(lines: list[str] | str) -> str:
    """Join lines with their trailing white space removed and blank edges stripped."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    return _BLANK_RUN.sub("\n\n", "\n".join(line.rstrip() for line in lines)).strip("\n")


def _history_start(lines: list[str]) -> tuple[int, int]:
    """Index of the first history line, and how many lines an attribution spans (else 0)."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _SEPARATOR.match(stripped):
            return _back_over_rules(lines, index), 0
        if _BLOCK_FROM.match(stripped) and _date_follows(lines, index):
            return _back_over_rules(lines, index), 0
        width = _attribution_width(lines, index)
        if width:
            return index, width
    return len(lines), 0


def _date_follows(lines: list[str], index: int) -> bool:
    window = lines[index + 1 : index + 1 + _BLOCK_WINDOW]
    return any(_BLOCK_DATE.match(line.strip()) for line in window)


def _attribution_width(lines: list[str], index: int) -> int:
    if not lines[index].strip().startswith(("On ", "在")):
        return 0
    for width in range(1, _ATTRIBUTION_LINES + 1):
        joined = " ".join(line.strip() for line in lines[index : index + width])
        if _ATTRIBUTION.match(joined):
            return width
    return 0


def _back_over_rules(lines: list[str], index: int) -> int:
    while index > 0 and (not lines[index - 1].strip() or _RULE.match(lines[index - 1].strip())):
        index -= 1
    return index


def _without_signature(lines: list[str]) -> list[str]:
    # RFC 3676 4.3: the signature starts at a line "-- " (we also accept it space-stripped).
    for index, line in enumerate(lines):
        if line == "--":
            return lines[:index]
    return lines


def _without_footer(lines: list[str]) -> list[str]:
    content = [index for index, line in enumerate(lines) if line.strip()]
    if content and _FOOTERS.match(lines[content[-1]].strip()):
        return lines[: content[-1]]
    return lines


def _has_content(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)
