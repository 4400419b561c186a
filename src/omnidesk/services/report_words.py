"""The words that recur in low-rated survey comments, for the report's `low_rated_words`.

English words (lower case, stop words dropped) and Chinese character bigrams, each counted once
per comment; those in at least two comments, most frequent first (top 20).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

TOP_WORDS = 20
_TOKEN = re.compile(r"[a-z][a-z']*[a-z]|[\u3400-\u4dbf\u4e00-\u9fff]+")
_PARTICLES = frozenset("的了吗呢吧啊呀哦嗯么")  # a bigram holding one is not a word
_STOP_WORDS_TEXT = (
    "a about after again all also am an and any are as at be been before being but by can could "
    "did do does doing don't for from get got had has have having he her here him his how i i'm "
    "if in into is it it's its just me more my no not now of on once only or other our out over "
    "she so some still than that the their them then there these they this those to too up us "
    "very was we were what when where which while who why will with would you your"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def words_of(comment: str) -> set[str]:
    """A comment's words: English words minus stop words, Chinese character bigrams."""
    words: set[str] = set()
    for token in _TOKEN.findall(comment.lower()):
        if token.isascii():
            words.update({token} - STOP_WORDS)
            continue
        pairs = [token[i : i + 2] for i in range(len(token) - 1)] or [token]
        words.update(p for p in pairs if not _PARTICLES.intersection(p))
    return words


def low_rated_words(comments: Iterable[str]) -> list[dict[str, Any]]:
    """Words in at least two comments, most frequent first (ties in code-point order)."""
    counts = Counter(word for comment in comments for word in words_of(comment))
    return top(counts, "word", TOP_WORDS, minimum=2)


def top(counts: Counter[str], key: str, limit: int, minimum: int) -> list[dict[str, Any]]:
    """The `limit` most frequent of at least `minimum`, as `{key: word, "count": n}` rows."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{key: k, "count": n} for k, n in ranked if n >= minimum][:limit]
