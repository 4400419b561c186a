"""Features of a normalised message: Chinese character n-grams, English words, bigrams, symbols.

Chinese is not segmented: character 1-3-grams over each run of Han characters do the work of
words and survive new vocabulary and typos better than a segmenter's dictionary. English gets
words, word bigrams and character 3-4-grams of each word (typos: "refnud" still shares "ref").
Greetings and sign-offs are dropped first (every email has them; they say nothing about the
category), and numbers, links and addresses become placeholders rather than vocabulary.

The email placeholder's pattern runs on RE2 (omnidesk.patterns): with `re` it backtracks for
seconds on an `a@a@a@…` message. The others are linear as written.
"""

from __future__ import annotations

import re

from omnidesk.patterns import PY_NON_SPACE, compile_linear
from omnidesk.triage.normalize import strip_salutations

_URL = re.compile(r"https?://\S+|www\.\S+")
# \S+@\S+\.[a-z]{2,} with Python's \S, matched by RE2.
_EMAIL = compile_linear(rf"{PY_NON_SPACE}+@{PY_NON_SPACE}+\.[a-z]{{2,}}")
_ID = re.compile(r"[a-z]{0,4}\d[\d -]{4,}\d[a-z]{0,2}")
_DIGIT = re.compile(r"\d")
_TOKEN = re.compile(
    r"(?P<han>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
    r"|(?P<word>[a-z0-9]+(?:'[a-z]+)?)"
    r"|(?P<other>[^\W\d_a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
    r"|(?P<symbol>[^\s\w])"
)
HAN_NGRAMS = (1, 2, 3)
WORD_CHAR_NGRAMS = (3, 4)


def prepare(text: str) -> str:
    """No salutations, lower case, placeholders for links, emails, long numbers; digits as 0."""
    text = _URL.sub(" urlx ", strip_salutations(text).lower())
    text = _EMAIL.sub(" emailx ", text)
    text = _ID.sub(" numx ", text)
    return _DIGIT.sub("0", text)


def _han_ngrams(run: str, out: list[str]) -> None:
    out.extend(run)
    padded = f" {run} "
    for n in HAN_NGRAMS[1:]:
        out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))


def _word_ngrams(word: str, out: list[str]) -> None:
    out.append(word)
    if len(word) < 3:
        return
    padded = f"<{word}>"
    for n in WORD_CHAR_NGRAMS:
        out.extend("~" + padded[i : i + n] for i in range(len(padded) - n + 1))


def analyze(text: str) -> list[str]:
    """The features of a normalised message (the TfidfVectorizer analyzer and the model's)."""
    features: list[str] = []
    previous = ""
    for match in _TOKEN.finditer(prepare(text)):
        kind, token = match.lastgroup, match.group()
        if kind == "han":
            _han_ngrams(token, features)
        elif kind == "word":
            _word_ngrams(token, features)
            if previous:
                features.append(f"{previous} {token}")
        else:
            features.append(token)
        previous = token if kind == "word" else ""
    return features
