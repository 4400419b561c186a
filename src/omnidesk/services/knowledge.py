"""Automatic answers from the knowledge base (config/knowledge/*.toml), and "it is solved".

Retrieval is TF-IDF cosine similarity between the customer's text and each entry's question
variants (an entry scores its best variant), among the entries of the request's category and
the category-free ones. Chinese is read as character 1-3-grams of each run of Han characters
(no segmenter: robust to new words and typos); English as words, lightly stemmed, and word
pairs. A match below the language's threshold is no answer: a human replies instead.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from omnidesk.errors import ConfigError
from omnidesk.triage.normalize import normalize, strip_salutations
from omnidesk.validation import format_validation

if TYPE_CHECKING:
    import numpy as np

# numpy and scikit-learn (about 100 MiB) are imported when an index is built, not with this
# module: the configuration imports it, and so does every process, most of which never answer.

# Measured with tests/core/test_knowledge.py's tables: the paraphrases the question variants
# were tuned on score >= 0.29 (zh) / >= 0.27 (en) on their right entry; unrelated or
# other-category questions score <= 0.20 (zh) / <= 0.23 (en). Paraphrases written after tuning
# (FRESH): 13/15 (zh) and 9/15 (en) score >= 0.25, all on the right entry; the rest go to a human.
DEFAULT_THRESHOLDS: dict[str, float] = {"zh": 0.25, "en": 0.25}
MAX_SMS_SEGMENTS = 2
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Chinese function words: they join any two questions ("你们…吗") and say nothing about either.
# Removed as breaks, so n-grams never span them. "在" stays: it is half of 在线 (online).
_ZH_STOP = re.compile(
    r"请问|你们|您们|我们|你好|您好|麻烦|一下|能不能|可不可以|是不是|有没有|可以|"
    r"[的了吗呢啊吧呀哦嘛啦我你您还就都也是]"
)
# Words customers use for the same thing, folded before matching so the knowledge base need not
# list every spelling (applied to its question variants and to the customer's text alike).
_ZH_SYNONYMS = {
    "包裹": "快递", "哪儿": "哪里", "热线": "电话", "真人": "人工", "东西": "商品", "宝贝": "商品",
    "坏了": "有问题", "登陆": "登录", "忘了": "忘记", "退钱": "退款",
}  # fmt: skip
_EN_PHRASES = {
    r"\b(?:log|sign) ?(?:in|on)\b": "login",
    r"\b(?:send|ship|post|bring) (?:\w+ )?back\b": "return",
    r"\bget in touch\b": "contact",
    r"\btext message\b|\bsms\b": "text",
    r"\be-mail\b": "email",
    r"\b24 ?/ ?7\b|\baround the clock\b|\bday and night\b": "24 hours",
}
_EN_WORDS = {
    "package": "parcel", "complain": "complaint", "call": "phone", "reach": "contact",
    "person": "human", "representative": "human", "bot": "human", "robot": "human",
}  # fmt: skip
_ZH_SYNONYM_RE = re.compile("|".join(map(re.escape, _ZH_SYNONYMS)))
_EN_PHRASE_RES = tuple((re.compile(k), v) for k, v in _EN_PHRASES.items())
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NUMBER = re.compile(r"\d[\d\s-]*\d|\d")


@cache
def _en_stop() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - {"not", "no", "where", "how", "when", "call"}


def is_gsm7(text: str) -> bool:
    """Whether an SMS of this text goes out in the GSM-7 alphabet (else UCS-2)."""
    return all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """SMS segments as carriers count them: GSM-7 160/153 septets, else UCS-2 70/67 units.

    An escaped GSM-7 character (2 septets) or a UTF-16 surrogate pair never straddles two parts.
    """
    if is_gsm7(text):
        units, single, part = [2 if c in _GSM7_EXTENSION else 1 for c in text], 160, 153
    else:
        units, single, part = [len(c.encode("utf-16-le")) // 2 for c in text], 70, 67
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


class KbEntry(BaseModel):
    """One entry of a knowledge file (`[[entries]]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    language: str = Field(pattern=r"^(zh|en)$")
    category: str | None = None
    """None: offered whatever the request's category ("how do I reach a human")."""
    title: str = Field(min_length=1)
    questions: tuple[str, ...] = Field(min_length=2)
    answer: str = Field(min_length=1)
    short_answer: str | None = None
    """For SMS: at most two segments (134 UCS-2 or 306 GSM-7 characters)."""

    @field_validator("short_answer")
    @classmethod
    def _fits_two_segments(cls, value: str | None) -> str | None:
        if value is not None:
            count = sms_segments(value.strip())
            if count > MAX_SMS_SEGMENTS:
                alphabet = "GSM-7: 306" if is_gsm7(value) else "UCS-2: 134"
                raise ValueError(
                    f"short_answer needs {count} SMS segments; at most {MAX_SMS_SEGMENTS} "
                    f"({alphabet} characters)"
                )
        return value.strip() if value else value


@dataclass(frozen=True, slots=True)
class KbMatch:
    """An entry that answers the customer's text, with its similarity score (0..1)."""

    id: str
    answer: str
    short_answer: str | None
    score: float
    title: str = ""
    category: str | None = None
    language: str = "zh"


class KnowledgeConfig(BaseModel):
    """The `[knowledge]` table: where the entries are and how sure an answer must be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    directory: str = "config/knowledge"
    thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))

    @field_validator("thresholds")
    @classmethod
    def _in_range(cls, value: dict[str, float]) -> dict[str, float]:
        wrong = [k for k, v in value.items() if not 0.0 < v <= 1.0]
        if wrong:
            raise ValueError(f"threshold for {wrong[0]!r} must be in (0, 1]")
        return DEFAULT_THRESHOLDS | value


# -- text features ---------------------------------------------------------------------------


def _prepare(text: str) -> str:
    return strip_salutations(normalize(text)).lower()


def _stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


def analyze_zh(text: str) -> list[str]:
    """Character 1-3-grams of each Han run, plus any Latin words (\"app\", \"sf\")."""
    prepared = _NUMBER.sub(" ", _ZH_SYNONYM_RE.sub(lambda m: _ZH_SYNONYMS[m[0]], _prepare(text)))
    features: list[str] = []
    for run in _HAN_RUN.findall(_ZH_STOP.sub(" ", prepared)):
        for n in (1, 2, 3):
            features.extend(run[i : i + n] for i in range(len(run) - n + 1))
    features.extend(_LATIN_WORD.findall(prepared))
    return features


def analyze_en(text: str) -> list[str]:
    """Stemmed words without stop words, plus pairs of neighbouring kept words."""
    prepared = _prepare(text)
    for pattern, replacement in _EN_PHRASE_RES:
        prepared = pattern.sub(replacement, prepared)
    prepared = _NUMBER.sub(" ", prepared)
    stop = _en_stop()
    stems = (_stem(w) for w in _LATIN_WORD.findall(prepared) if w not in stop)
    words = [_EN_WORDS.get(w, w) for w in stems]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


ANALYZERS = {"zh": analyze_zh, "en": analyze_en}


# -- the knowledge base ----------------------------------------------------------------------


class _Index:
    """The TF-IDF vectors of one language's question variants.

    Words the knowledge base never uses still count in the length of the customer's vector
    (at the highest IDF: they are rarer than anything known). TfidfVectorizer drops them, and
    then "can I cancel my order?" is just "order" and looks like "where is my order?".
    """

    def __init__(self, entries: Sequence[KbEntry], language: str) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize as normalize_rows

        self.entries = list(entries)
        self.owner = np.asarray([i for i, e in enumerate(self.entries) for _ in e.questions])
        texts = [q for e in self.entries for q in e.questions]
        self.analyzer = ANALYZERS[language]
        self.vectorizer = TfidfVectorizer(analyzer=self.analyzer, sublinear_tf=True, norm=None)
        self.matrix = normalize_rows(self.vectorizer.fit_transform(texts))
        self.unknown_weight = float(self.vectorizer.idf_.max())

    def scores(self, text: str) -> np.ndarray:
        """Each entry's best cosine similarity to `text`."""
        import numpy as np

        known = self.vectorizer.transform([text])
        vocabulary = self.vectorizer.vocabulary_
        unknown = Counter(f for f in self.analyzer(text) if f not in vocabulary)
        norm_sq = known.multiply(known).sum() + sum(
            ((1 + math.log(count)) * self.unknown_weight) ** 2 for count in unknown.values()
        )
        if norm_sq == 0:
            return np.zeros(len(self.entries))
        similarity = (self.matrix @ known.T).toarray().ravel() / math.sqrt(norm_sq)
        best = np.zeros(len(self.entries))
        np.maximum.at(best, self.owner, similarity)
        return best


class KnowledgeBase:
    """Entries in zh and en, indexed per language; answer() picks one above the threshold."""

    def __init__(
        self, entries: Iterable[KbEntry], thresholds: Mapping[str, float] | None = None
    ) -> None:
        """Index the entries; `thresholds` per language override DEFAULT_THRESHOLDS."""
        self.entries = tuple(entries)
        self.thresholds = DEFAULT_THRESHOLDS | dict(thresholds or {})
        by_language: dict[str, list[KbEntry]] = {}
        for entry in self.entries:
            by_language.setdefault(entry.language, []).append(entry)
        self._indexes = {lang: _Index(group, lang) for lang, group in by_language.items()}

    @classmethod
    def load(
        cls,
        directory: Path,
        thresholds: Mapping[str, float] | None = None,
        categories: Iterable[str] | None = None,
    ) -> KnowledgeBase:
        """Read every *.toml of `directory`; ConfigError lists each problem with file and key."""
        return cls(read_entries(directory, categories), thresholds)

    def rank(self, text: str, category: str | None, language: str) -> list[KbMatch]:
        """Every candidate entry with its score, best first, whatever the threshold."""
        index = self._indexes.get(language)
        if index is None or not text.strip():
            return []
        scores = index.scores(text)
        matches = [
            _match(entry, float(score))
            for entry, score in zip(index.entries, scores, strict=True)
            if category is None or entry.category in (None, category)
        ]
        return sorted(matches, key=lambda m: m.score, reverse=True)

    def answer(self, text: str, category: str | None, language: str) -> KbMatch | None:
        """The best entry for the text among the category's (None: any), if sure enough."""
        ranked = self.rank(text, category, language)
        threshold = self.thresholds.get(language, 1.0)
        return ranked[0] if ranked and ranked[0].score >= threshold else None


def read_entries(directory: Path, categories: Iterable[str] | None = None) -> list[KbEntry]:
    """The entries of every *.toml of `directory`; ConfigError lists each problem with file and
    key."""
    errors: list[str] = []
    entries = [e for path in sorted(directory.glob("*.toml")) for e in _read(path, errors)]
    errors += _cross_check(entries, None if categories is None else set(categories))
    if errors:
        raise ConfigError("\n".join(errors))
    return entries


def overlay(
    entries: Iterable[KbEntry], console: Mapping[tuple[str, str], KbEntry]
) -> list[KbEntry]:
    """The file's entries with the console's in their place (same language and id), then the
    console's own entries."""
    listed = list(entries)
    keys = {(e.language, e.id) for e in listed}
    replaced = [console.get((e.language, e.id), e) for e in listed]
    return replaced + [e for key, e in sorted(console.items()) if key not in keys]


def _match(entry: KbEntry, score: float) -> KbMatch:
    return KbMatch(
        id=entry.id,
        answer=entry.answer.strip(),
        short_answer=entry.short_answer,
        score=round(score, 4),
        title=entry.title,
        category=entry.category,
        language=entry.language,
    )


def _read(path: Path, errors: list[str]) -> list[KbEntry]:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        errors.append(f"{path}: {exc}")
        return []
    language = data.get("language", path.stem)
    entries = []
    for index, table in enumerate(data.get("entries", [])):
        try:
            entries.append(KbEntry.model_validate({"language": language} | table))
        except ValidationError as exc:
            errors.extend(format_validation(f"{path}: entries[{index}]", exc))
        except TypeError:
            errors.append(f"{path}: entries[{index}] must be a table")
    return entries


def _cross_check(entries: Sequence[KbEntry], categories: set[str] | None) -> list[str]:
    errors, seen = [], set()
    for entry in entries:
        key = (entry.language, entry.id)
        if key in seen:
            errors.append(f"knowledge: duplicate entry id {entry.id!r} in {entry.language}")
        seen.add(key)
        if categories is not None and entry.category not in categories | {None}:
            errors.append(f"knowledge: {entry.id}: unknown category {entry.category!r}")
    return errors


# -- "it is solved" --------------------------------------------------------------------------

_NOT_SOLVED = re.compile(
    r"没有?(?:能|被)?(?:解决|搞定|好|用|收到|明白|懂)|未解决|还没|解决不了|无法|没法|"
    r"不(?:行|对|好|能|可以|清楚|明白|懂|满意)|"
    r"还是(?:不|没)|还有|但是|不过|可是|怎么|什么|为什么|吗|呢|\?|另外|还想|想问|问一下|"
    r"\bnot\b|n't\b|\bno longer\b|\bstill\b|\bbut\b|\bhowever\b|\bunsolved\b|\balso\b|"
    r"\banother\b|\bone more\b|"
    r"\bunresolved\b|\bnever\b|\bnothing\b|\bwhy\b|\bhow\b|\bwhat\b|\bwhen\b|\bwhere\b",
    re.IGNORECASE,
)
_SOLVED = re.compile(
    # Chinese: the matter is settled ...
    r"解决(?:了|啦)|已解决|搞定(?:了|啦)|没问题了|可以了|好了|行了|明白了|知道了|清楚了|懂了|"
    r"没事了|不用了|"
    # ... or an "OK" together with thanks ("好的谢谢", "收到，多谢").
    r"(?:好的|好滴|嗯|ok|收到)[ ,，.。!！~～]*(?:谢谢|多谢|感谢)|"
    # English
    r"\b(?:that|this|it)(?:'s| has| is)? (?:solved|fixed|sorted|resolved|answered|helped)\b|"
    r"\b(?:solved|fixed|sorted|resolved) (?:it|now)\b|\b(?:problem|issue) (?:solved|resolved)\b|"
    r"\ball (?:sorted|good|set)\b|\bthat'?s all\b|\bthat is all\b|\bthat'?s everything\b|"
    r"\bworks now\b|\bgot it\b|\b(?:ok|okay|great|perfect)\b[ ,!.]*(?:thanks|thank you|thx)\b",
    re.IGNORECASE,
)
_THANKS_ONLY = re.compile(r"^(?:谢谢|多谢|感谢|thanks|thank you|thx)[ ,.!。！~～]*$", re.IGNORECASE)
MAX_CONFIRMATION_CHARS = 40


def is_confirmation(text: str, language: str = "zh") -> bool:
    """Whether the customer says the matter is solved ("解决了", "thanks, that solved it").

    Careful on purpose: a false "yes" would close a request someone still needs. Anything that
    negates ("没有解决", "not solved", "still"), asks something more ("?", "但是", "how"), or is
    long is no confirmation; bare thanks is not one either (it may thank the acknowledgement).
    `language` is a hint only: both languages' phrases are recognised.
    """
    del language  # customers mix languages ("ok 谢谢"); both sets of phrases apply
    clean = normalize(text).lower()
    if not clean or len(clean) > MAX_CONFIRMATION_CHARS or _THANKS_ONLY.match(clean):
        return False
    return _SOLVED.search(clean) is not None and _NOT_SOLVED.search(clean) is None
