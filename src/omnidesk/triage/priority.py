"""Priority of a request from its category, the rules that fired and its tone."""

from __future__ import annotations

from omnidesk.triage.config import PRIORITIES, Priority, priority_rank
from omnidesk.triage.rules import RuleHit

NEGATIVE_CUE = "negative_sentiment"
# Anger raises a request one step, but only the escalation rules make it urgent.
_SENTIMENT_CAP: Priority = "high"


def _highest(*priorities: Priority) -> Priority:
    return max(priorities, key=priority_rank)


def decide_priority(
    base: Priority, hit: RuleHit, negativity: int, threshold: int
) -> tuple[Priority, tuple[str, ...]]:
    """The priority and the cues behind it.

    Args:
        base: the category's starting priority.
        hit: what the rules found.
        negativity: the count of negative-sentiment cues.
        threshold: the count from which the tone raises the priority.
    """
    priority = base
    cues = list(hit.fired)
    if hit.priority is not None:
        priority = _highest(priority, hit.priority)
    if negativity >= threshold:
        cues.append(NEGATIVE_CUE)
        raised = PRIORITIES[min(priority_rank(base) + 1, priority_rank(_SENTIMENT_CAP))]
        priority = _highest(priority, raised)
    return priority, tuple(cues)
