"""Must-not-miss rules and priority cues from the configuration, compiled once.

The configured patterns run on RE2 (omnidesk.patterns): linear in the text whatever it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from omnidesk.patterns import LinearPattern, compile_linear
from omnidesk.triage.config import Priority, Rule, TriageConfig, priority_rank

_SHOUTED = re.compile(r"\b[A-Z]{5,}\b")
_REPEATED_MARKS = re.compile(r"[!?！？]{3,}")


@dataclass(frozen=True, slots=True)
class RuleHit:
    """What the rules found in one message."""

    category: str | None
    """The category forced by the first category rule that fired, if any."""
    rule: str | None
    """That rule's name."""
    confidence: float
    """That rule's confidence."""
    priority: Priority | None
    """The highest priority of every rule that fired."""
    fired: tuple[str, ...]
    """Names of every rule that fired, in configuration order."""


NO_HIT = RuleHit(None, None, 0.0, None, ())


def _compile(patterns: tuple[str, ...]) -> LinearPattern:
    return compile_linear("|".join(f"(?:{p})" for p in patterns), ignore_case=True)


class Rules:
    """The configured rules: `check` runs them all on a normalised message."""

    def __init__(self, config: TriageConfig) -> None:
        """Compile every rule's patterns into one expression per rule."""
        self._rules: tuple[tuple[Rule, LinearPattern], ...] = tuple(
            (rule, _compile(rule.patterns)) for rule in config.rules
        )
        self._negative = _compile(config.sentiment.negative) if config.sentiment.negative else None

    def check(self, text: str, channel: str | None = None) -> RuleHit:
        """Run every rule on `text` (normalised, case kept) from `channel`."""
        fired: list[Rule] = []
        for rule, pattern in self._rules:
            if rule.channels and channel not in rule.channels:
                continue
            if pattern.search(text):
                fired.append(rule)
        if not fired:
            return NO_HIT
        deciding = next((rule for rule in fired if rule.category is not None), None)
        priorities: list[Priority] = [r.priority for r in fired if r.priority is not None]
        highest = sorted(priorities, key=priority_rank)[-1] if priorities else None
        return RuleHit(
            category=deciding.category if deciding else None,
            rule=deciding.name if deciding else None,
            confidence=deciding.confidence if deciding else 0.0,
            priority=highest,
            fired=tuple(rule.name for rule in fired),
        )

    def negativity(self, text: str) -> int:
        """How many negative cues the message has (words, SHOUTING, !!!)."""
        count = len(_SHOUTED.findall(text)) + len(_REPEATED_MARKS.findall(text))
        if self._negative is not None:
            count += len(self._negative.findall(text))
        return count
