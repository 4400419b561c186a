"""Read a survey answer: a score 1–5 (digits, words or emoji, zh and en) and the comment after it.

A digit answer is read generously ("5", "５", "5分", "5/5", "5 很好", "1 退款太慢了"): the
customer was asked for one. A word or emoji answer ("满意", "very good", "👍") must not be a
question or a new request, and nothing that starts an order number, a date or a quantity
("1234567890", "5号", "3个订单") is a score. Both languages are understood whatever the
customer's language is (people mix them); traditional characters are read as simplified.
"""

from __future__ import annotations

import re
import unicodedata

MAX_COMMENT = 2000
MAX_ANSWER_CHARS = 4000
"""How much of a survey answer is read: the score and a comment of up to MAX_COMMENT."""

# Longest first, so "不满意" wins over "满意" and "very good" over "good".
_WORDS: dict[str, int] = {
    # zh
    "非常不满意": 1, "很不满意": 1, "极不满意": 1, "特别不满意": 1, "非常差": 1, "很差": 1,
    "太差": 1, "极差": 1, "差评": 1, "糟糕": 1, "垃圾": 1,
    "不太满意": 2, "不满意": 2, "不太好": 2, "比较差": 2, "较差": 2, "不好": 2, "差": 2,
    "一般般": 3, "一般": 3, "还行": 3, "还可以": 3, "凑合": 3, "马马虎虎": 3,
    "比较满意": 4, "挺满意": 4, "还不错": 4, "不错": 4, "挺好": 4, "满意": 4,
    "非常满意": 5, "很满意": 5, "特别满意": 5, "十分满意": 5, "超级满意": 5, "非常好": 5,
    "很好": 5, "太好了": 5, "好评": 5, "满分": 5, "五星": 5,
    # en
    "very dissatisfied": 1, "very unsatisfied": 1, "very unhappy": 1, "very bad": 1,
    "very poor": 1, "terrible": 1, "awful": 1, "horrible": 1, "worst": 1, "useless": 1,
    "not satisfied": 2, "dissatisfied": 2, "unsatisfied": 2, "unhappy": 2, "not good": 2,
    "disappointed": 2, "bad": 2, "poor": 2,
    "so-so": 3, "so so": 3, "average": 3, "neutral": 3, "mediocre": 3,
    "not bad": 4, "pretty good": 4, "satisfied": 4, "good": 4, "happy": 4, "nice": 4,
    "very satisfied": 5, "very happy": 5, "very good": 5, "excellent": 5, "great": 5,
    "perfect": 5, "amazing": 5, "awesome": 5, "fantastic": 5, "outstanding": 5,
}  # fmt: skip
_ORDERED_WORDS = sorted(_WORDS, key=len, reverse=True)
# Linear even when searched: (?<!\s) never starts inside white space (matched from the start,
# as here, it changes nothing) and \s*+ gives none back (no word starts with white space).
_WORD_SCORE = re.compile(
    r"(?<!\s)(?:我觉得|我感觉|感觉|总体|整体|总的来说|我|i am|i'm|im|it was|overall)?\s*+("
    + "|".join(re.escape(w) for w in _ORDERED_WORDS)
    + ")",
    re.IGNORECASE,
)
_EMOJI = {"👍": 5, "👎": 1, "😍": 5, "😀": 5, "😊": 4, "🙂": 4, "😐": 3, "🙁": 2, "😞": 2, "😡": 1,
          "😠": 1, "⭐⭐⭐⭐⭐": 5, "⭐⭐⭐⭐": 4, "⭐⭐⭐": 3, "⭐⭐": 2, "⭐": 1}  # fmt: skip
_ORDERED_EMOJI = sorted(_EMOJI, key=len, reverse=True)
# Words that start like a rating but are not one: "sorry", "OK", "almost", a greeting.
_NOT_RATINGS = ("不好意思", "好的", "差不多", "差点", "good morning", "good afternoon",
                "good evening", "good day", "good night", "bad news")  # fmt: skip
_TRADITIONAL = str.maketrans("滿極還錯較糕討厭評壞", "满极还错较糕讨厌评坏")
_SKIN_AND_VARIANTS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\u200d]")

# Not \s*[:：]?\s*: two runs of white space around an optional colon backtrack quadratically.
_LEAD = r"(?:(?:评分|打分|我打|我给|给|rating|score|i give|i'd give)\s*(?:[:：]\s*)?)?"
_DIGIT_SCORE = re.compile(
    _LEAD + r"([1-5])(?:\s*(?:分|星|颗星|/\s*5|stars?|points?|out of 5))?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# What may not follow a digit: more digits (order numbers, decimals, times, ranges), or a
# unit (dates, quantities, prices): then the digit is part of something else.
_NOT_A_SCORE_AFTER = re.compile(
    r"^(?:[./:\-]?\d|\s*(?:月|日|号|天|个|件|次|点|元|块|年|周|小时|分钟|岁|楼|层|折|单|%|％"
    r"|days?\b|hours?\b|weeks?\b|months?\b|pcs\b|items?\b|times\b|am\b|pm\b|th\b|st\b|nd\b|rd\b))",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^[\s,，.。;；:：!！~～、\-—)）]+")
_QUESTION = re.compile(
    r"[?？]|吗|怎么|什么|为什么|为何|多久|何时|几时|哪|是否|能不能|可不可以|有没有|请问"
    r"|\b(?:how|what|when|where|why|which|who|can you|could you|is it|do you|does|will it)\b",
    re.IGNORECASE,
)
# A new request rather than a comment on the service (only checked after a word or emoji).
_REQUEST = re.compile(
    r"我想|我要|想要|帮我|麻烦|退货|换货|订单号|\b(?:i want|i need|i would like|please|help me)\b",
    re.IGNORECASE,
)

_NEGATIVE = re.compile(
    r"差|慢|不满|失望|没解决|未解决|没有解决|还没|投诉|垃圾|糟糕|生气|愤怒|骗|敷衍|态度不好|态度恶劣"
    r"|不专业|不行|不好|太久|没收到|没到|坑|不耐烦|推诿"
    r"|\b(?:bad|poor|slow|terrible|awful|rude|unhelpful|disappointed|disappointing|not solved"
    r"|not resolved|unresolved|still waiting|never|nobody|no one|complain\w*|useless|waste"
    r"|worst|angry|late|didn'?t help|did not help|not happy|unprofessional)\b",
    re.IGNORECASE,
)
_NOT_NEGATIVE = re.compile(
    r"不差|不慢|不错|没问题|不好意思|差不多|\bnot (?:bad|slow|late)\b|\bno problem\b",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """NFKC (full-width "５" → "5"), simplified characters, no skin tones, trimmed."""
    return _mapped(text)[0].strip()


def _mapped(text: str) -> tuple[str, list[int]]:
    """`text` normalised one character at a time, and for each character of the result the
    index of the original one it came from (so the comment is kept as the customer wrote it)."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if _SKIN_AND_VARIANTS.match(char):
            continue
        for part in unicodedata.normalize("NFKC", char).translate(_TRADITIONAL):
            out.append(part)
            origin.append(index)
    origin.append(len(text))
    return "".join(out), origin


def parse_rating(text: str, language: str | None = None) -> tuple[int, str | None] | None:
    """(score, comment or None) when `text` answers a satisfaction survey; None otherwise.

    `language` is the survey's; words of both languages are understood whatever it is. Only the
    first MAX_ANSWER_CHARS characters are read.
    """
    text = text[:MAX_ANSWER_CHARS]
    normalised, origin = _mapped(text)
    start = len(normalised) - len(normalised.lstrip())
    body = normalised[start:].rstrip()
    found = (_digit_rating(body) or _word_rating(body)) if body else None
    if found is None:
        return None
    score, end = found
    return score, _comment(text[origin[start + end] :])


def _digit_rating(text: str) -> tuple[int, int] | None:
    """(score, where the comment starts) of an answer that starts with a digit."""
    match = _DIGIT_SCORE.match(text)
    if match is None:
        return None
    rest = match.group("rest")
    if _NOT_A_SCORE_AFTER.match(rest):
        return None
    if rest and not _SEPARATOR.match(rest) and not _starts_with_word(rest):
        return None  # "5abc": not a score followed by a comment
    return int(match.group(1)), match.start("rest")


def _word_rating(text: str) -> tuple[int, int] | None:
    """(score, where the comment starts) of an answer that starts with a word or an emoji."""
    lowered = text.lower()
    if lowered.startswith(_NOT_RATINGS) or _QUESTION.search(lowered) or _REQUEST.search(lowered):
        return None
    for emoji in _ORDERED_EMOJI:
        if text.startswith(emoji):
            return _EMOJI[emoji], len(emoji)
    match = _WORD_SCORE.match(text)
    if match is None:
        return None
    if match.group(1).isascii() and text[match.end() : match.end() + 1].isalnum():
        return None  # "goods", "badge": another word
    return _WORDS[match.group(1).lower()], match.end()


def _starts_with_word(rest: str) -> bool:
    lowered = rest.lower()
    return any(lowered.startswith(w) for w in _ORDERED_WORDS) or lowered.startswith(
        ("谢", "感谢", "服务", "客服", "非常", "很", "挺", "太", "但", "就是", "物流", "快递")
    )


def _comment(rest: str) -> str | None:
    cleaned = _SEPARATOR.sub("", rest).strip()
    return cleaned[:MAX_COMMENT] or None


def is_negative(comment: str | None) -> bool:
    """Whether a comment complains (slow, rude, not solved, 太慢, 态度不好 ...)."""
    if not comment:
        return False
    text = _NOT_NEGATIVE.sub(" ", normalise(comment))
    return _NEGATIVE.search(text) is not None
