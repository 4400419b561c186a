"""Entities in a message: order, tracking and phone numbers, email addresses, amounts.

The configured order and tracking patterns and the email pattern run on RE2 (omnidesk.patterns),
linear in the text; the phone and amount patterns need lookarounds and are linear as written
(bounded or possessive quantifiers).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence

from omnidesk.patterns import LinearPattern, compile_linear
from omnidesk.triage.config import EntityPatterns

ENTITY_KINDS = ("order_numbers", "tracking_numbers", "phones", "emails", "amounts")

# RE2's \w is ASCII, as re.ASCII's was.
_EMAIL = compile_linear(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONES = (
    # China mainland mobile, optionally +86, optionally split 3-4-4.
    re.compile(r"(?<![\d+])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)"),
    # International E.164, written with or without spaces. The group's digits are possessive:
    # splitting a run of digits differently never helps, and trying every split of a 30-digit
    # run took a quarter of a second per "+".
    re.compile(r"(?<![\w+])\+[1-9]\d{0,3}(?:[-\s]?\(?\d{1,5}+\)?){1,5}(?!\d)"),
    # North American (212) 555-0123 / 212-555-0123.
    re.compile(r"(?<![\d(])(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?!\d)"),
    # China hotlines (400/800) and landlines with an area code.
    re.compile(r"(?<!\d)(?:[48]00[-\s]?\d{3}[-\s]?\d{4}|0\d{2,3}-\d{7,8})(?!\d)"),
)
_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_PREFIX_CURRENCY = {
    "¥": "CNY", "rmb": "CNY", "cny": "CNY", "us$": "USD", "usd": "USD", "$": "USD",
    "hk$": "HKD", "hkd": "HKD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP",
}  # fmt: skip
_SUFFIX_CURRENCY = {
    "元": "CNY", "块钱": "CNY", "块": "CNY", "rmb": "CNY", "cny": "CNY", "yuan": "CNY",
    "usd": "USD", "dollars": "USD", "dollar": "USD", "bucks": "USD", "美元": "USD",
    "美金": "USD", "港币": "HKD", "欧元": "EUR", "eur": "EUR", "英镑": "GBP", "gbp": "GBP",
}  # fmt: skip


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_AMOUNTS = (
    re.compile(
        rf"(?<![A-Za-z0-9])(?P<cur>{_alternation(_PREFIX_CURRENCY)})\s?{_NUMBER}(?![\d])",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<![\d.,]){_NUMBER}\s?(?P<cur>{_alternation(_SUFFIX_CURRENCY)})(?![A-Za-z])",
        re.IGNORECASE,
    ),
)
# Which words just before a bare number say what it is (closest keyword wins).
_CONTEXT = re.compile(
    r"(?P<tracking_numbers>快递单号|快递号|运单号?|物流单号|物流号|waybill"
    r"|tracking(?: number| no\.?| #)?)"
    r"|(?P<order_numbers>订单号?|order(?: number| no\.?| #| id)?|单号|#)"
    r"|(?P<phones>电话|手机|号码|联系方式|phone|mobile|cell|tel|call me|whatsapp)",
    re.IGNORECASE,
)
_CONTEXT_WINDOW = 14
Found = dict[str, list[tuple[int, str]]]


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of `spans` (sorted and not overlapping each other).

    A bisection rather than a scan: a hostile message can hold hundreds of matches.
    """
    before = bisect_left(spans, (end, -1))  # the spans that start before `end`
    return before > 0 and spans[before - 1][1] > start


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + "\0" * (end - start) + text[end:]
    return text


def _context_kind(text: str, start: int) -> str | None:
    window = text[max(0, start - _CONTEXT_WINDOW) : start]
    matches = list(_CONTEXT.finditer(window))
    return matches[-1].lastgroup if matches else None


def _phone_value(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if raw.startswith("+") else "") + digits


def _retyped(kind: str, raw: str) -> str:
    if kind == "phones":
        return _phone_value(raw) or raw
    return re.sub(r"[^0-9A-Za-z]", "", raw).upper()


def _amount_value(match: re.Match[str], table: dict[str, str]) -> str:
    number = match.group("num").replace(",", "")
    return f"{table[match.group('cur').lower()]} {number}"


class EntityExtractor:
    """Finds entities in normalised text (NFKC, so full-width digits are already ASCII)."""

    def __init__(self, patterns: EntityPatterns) -> None:
        """Compile the configured patterns."""
        self._order = compile_linear(patterns.order_number)
        self._tracking = tuple(compile_linear(p, ignore_case=True) for p in patterns.tracking)

    def extract(self, text: str) -> dict[str, list[str]]:
        """All entities, each kind a list of distinct normalised values in order of appearance."""
        found: Found = {kind: [] for kind in ENTITY_KINDS}
        text = self._take(text, [_EMAIL], found, "emails", str.lower)
        text = self._take(text, self._tracking, found, "tracking_numbers", str.upper)
        text = self._take_amounts(text, found)
        text = self._take(text, _PHONES, found, "phones", _phone_value, contextual=True)
        self._take(text, [self._order], found, "order_numbers", str.strip, contextual=True)
        return {
            kind: list(dict.fromkeys(v for _, v in sorted(hits))) for kind, hits in found.items()
        }

    def _take(
        self,
        text: str,
        patterns: Sequence[re.Pattern[str] | LinearPattern],
        found: Found,
        kind: str,
        value_of: Callable[[str], str | None],
        *,
        contextual: bool = False,
    ) -> str:
        spans: list[tuple[int, int]] = []  # sorted, not overlapping: earlier patterns' finds
        for pattern in patterns:
            taken: list[tuple[int, int]] = []
            for match in pattern.finditer(text):
                start, end = match.start(), match.end()
                if _overlaps(spans, start, end):
                    continue
                value = value_of(match.group(0))
                if not value:
                    continue
                target = (_context_kind(text, start) or kind) if contextual else kind
                if target != kind:
                    value = _retyped(target, match.group(0))
                found[target].append((start, value))
                taken.append((start, end))
            spans = sorted(spans + taken)  # one pattern's matches never overlap each other
        return _mask(text, spans)

    def _take_amounts(self, text: str, found: Found) -> str:
        spans: list[tuple[int, int]] = []
        for pattern, table in zip(_AMOUNTS, (_PREFIX_CURRENCY, _SUFFIX_CURRENCY), strict=True):
            for match in pattern.finditer(text):
                found["amounts"].append((match.start(), _amount_value(match, table)))
                spans.append((match.start(), match.end()))
        return _mask(text, spans)
