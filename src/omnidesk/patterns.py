"""Linear-time regular expressions for customer text (the durability contract, item 7).

Python's `re` backtracks: `\\S+@\\S+\\.[a-z]{2,}` spends seconds on a 4,000-character
`a@a@a@…` message. Every pattern configured by the desk (triage rules and sentiment cues,
entity and order-number patterns) and every fixed pattern that cannot be written safely for
`re` runs on RE2 (google-re2), whose matching time is linear in the text. RE2 refuses what it
cannot do in linear time (lookarounds, backreferences), so a configured pattern that uses them
is refused when the configuration is read, with the pattern and the reason.

In RE2 `\\b`, `\\d`, `\\w` and `\\s` are ASCII-only, as with Python's `re.ASCII`. A fixed
pattern that needs Python's Unicode `\\s` spells it out as `PY_SPACE`.

The remaining `re` patterns on customer text are linear by construction (anchored, bounded,
possessive or unambiguous quantifiers). tests/core/test_patterns_linear.py feeds all of them,
RE2's included, hostile texts of 4,000 and 20,000 characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]

PY_SPACE = r"[\t-\r\x{1c}-\x{1f}\x{85}\p{Z}]"
"""Python's `\\s` for str (what `str.isspace` accepts), written for RE2."""
PY_NON_SPACE = r"[^\t-\r\x{1c}-\x{1f}\x{85}\p{Z}]"
"""Python's `\\S` for str, written for RE2."""


class LinearMatch(Protocol):
    """The part of a match object the desk uses (RE2's and `re`'s both have it)."""

    def group(self, *groups: int | str) -> Any: ...
    def start(self, group: int | str = 0) -> int: ...
    def end(self, group: int | str = 0) -> int: ...


class LinearPattern(Protocol):
    """A compiled RE2 pattern: the `re.Pattern` methods the desk uses, in linear time."""

    @property
    def pattern(self) -> str: ...
    @property
    def groups(self) -> int: ...
    def search(self, text: str) -> LinearMatch | None: ...
    def match(self, text: str) -> LinearMatch | None: ...
    def finditer(self, text: str) -> Iterator[LinearMatch]: ...
    def findall(self, text: str) -> list[Any]: ...
    def sub(self, repl: str | Callable[[Any], str], text: str, count: int = 0) -> str: ...


class NotLinear(ValueError):
    """A pattern that is no regular expression, or one RE2 cannot run in linear time."""


def _options(ignore_case: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False  # the reason is in the exception; RE2 would also print it
    return options


# What RE2's error quotes, for the constructs only a backtracking engine can run.
_NOT_LINEAR = (
    ("(?=", "a lookahead"),
    ("(?!", "a lookahead"),
    ("(?<", "a lookbehind"),
    ("(?P", "a named backreference"),
    ("(?>", "an atomic group"),
    ("++", "a possessive quantifier"),
    ("*+", "a possessive quantifier"),
    ("?+", "a possessive quantifier"),
    ("}+", "a possessive quantifier"),
)


def _refusal(pattern: str, exc: Exception) -> str:
    detail = exc.args[0] if exc.args else str(exc)
    said = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    construct = next((name for marker, name in _NOT_LINEAR if marker in said), None)
    if construct is None and "escape sequence: \\" in said and said[-1:].isdigit():
        construct = "a backreference"
    if construct is not None:
        return (
            f"not a linear-time regular expression: {pattern!r} uses {construct}; customer text "
            f"is matched with RE2, which runs in linear time and refuses it ({said})"
        )
    return (
        f"regular expression {pattern!r} is refused by RE2 (the linear-time engine customer "
        f"text is matched with): {said}"
    )


def compile_linear(pattern: str, *, ignore_case: bool = False) -> LinearPattern:
    """Compile `pattern` for RE2; raise NotLinear naming the pattern and why it is refused.

    A pattern Python cannot read either is "not a valid regular expression"; one Python reads
    but RE2 refuses (lookarounds, backreferences, possessive quantifiers, atomic groups) is
    "not a linear-time regular expression": it could take seconds on a hostile message.
    """
    try:
        compiled: LinearPattern = re2.compile(pattern, _options(ignore_case))
    except re2.error as exc:
        try:
            re.compile(pattern)
        except re.error as invalid:
            raise NotLinear(f"not a valid regular expression ({invalid}): {pattern!r}") from None
        raise NotLinear(_refusal(pattern, exc)) from None
    return compiled


def check_linear(pattern: str, *, ignore_case: bool = False) -> str:
    """`pattern` unchanged if RE2 runs it (a pydantic validator's shape); else NotLinear."""
    compile_linear(pattern, ignore_case=ignore_case)
    return pattern
