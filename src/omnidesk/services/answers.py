"""Automatic answers: order status from the shop's order system, else the knowledge base.

Built once per process from the desk config (`Answerer.from_config`), and `refreshed` when the
admin console changed the knowledge base; pure apart from the order system's HTTP call, which
has a short timeout and falls back to a human on any failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from omnidesk.config_file import DeskConfig
from omnidesk.services.knowledge import (
    KnowledgeBase,
    is_confirmation,
    overlay,
    read_entries,
)
from omnidesk.services.orders import (
    OrderLookup,
    OrderSystemUnavailable,
    describe,
    find_order_numbers,
)

log = structlog.get_logger(__name__)

HUMAN_WORDS = (
    "人工",
    "转人工",
    "真人",
    "客服人员",
    "agent",
    "human",
    "a person",
    "real person",
    "representative",
    "operator",
)


@dataclass(frozen=True)
class AutoAnswer:
    text: str
    source: str  # "order" or "knowledge"
    reference: str  # the order number or the knowledge entry id
    score: float | None = None


@dataclass(frozen=True)
class LookupFailure:
    reason: str


class Answerer:
    def __init__(
        self,
        knowledge: KnowledgeBase | None,
        orders: OrderLookup | None,
        order_pattern: str | None,
        source: Any = None,
        time_zone: str | None = None,
    ) -> None:
        """`source` is what the knowledge base was built from (see `refreshed`); `time_zone` is
        the desk's, whose calendar dates an order's expected delivery."""
        self.knowledge = knowledge
        self.orders = orders
        self.order_pattern = order_pattern
        self.source = source
        self.time_zone = time_zone

    @classmethod
    def from_config(cls, config: DeskConfig) -> Answerer:
        orders = OrderLookup(config.order_system) if config.order_system else None
        pattern = config.order_system.order_number_pattern if config.order_system else None
        zone = config.hours["default"].time_zone if "default" in config.hours else None
        return cls(load_knowledge(config), orders, pattern, knowledge_source(config), zone)

    def refreshed(self, config: DeskConfig) -> Answerer:
        """This answerer, or a new one whose knowledge base follows the console's edits.

        The order lookup (and its connection pool) is kept: the console does not edit it.
        Re-indexing happens only when the knowledge settings or entries changed.
        """
        source = knowledge_source(config)
        zone = config.hours["default"].time_zone if "default" in config.hours else None
        if source == self.source and zone == self.time_zone:
            return self
        if source == self.source:
            return Answerer(self.knowledge, self.orders, self.order_pattern, source, zone)
        return Answerer(load_knowledge(config), self.orders, self.order_pattern, source, zone)

    def answer(
        self, text: str, category: str | None, language: str, short: bool
    ) -> AutoAnswer | LookupFailure | None:
        """The best automatic answer, a reason the order lookup failed, or None."""
        if category == "order" and self.orders is not None and self.order_pattern:
            found = self._order(text, language, short)
            if found is not None:
                return found
        if self.knowledge is None:
            return None
        match = self.knowledge.answer(text, category, language)
        if match is None:
            return None
        body = (match.short_answer or match.answer) if short else match.answer
        return AutoAnswer(body, "knowledge", match.id, match.score)

    def _order(self, text: str, language: str, short: bool) -> AutoAnswer | LookupFailure | None:
        if self.orders is None or self.order_pattern is None:
            return None
        for number in find_order_numbers(text, self.order_pattern)[:3]:
            try:
                order = self.orders.find(number)
            except OrderSystemUnavailable as exc:
                log.warning("order_lookup_failed", reason=str(exc))
                return LookupFailure(str(exc))
            if order is not None:
                text = describe(order, language, short=short, time_zone=self.time_zone)
                return AutoAnswer(text, "order", number)
        return None


def knowledge_directory(config: DeskConfig) -> Path | None:
    """The knowledge files' directory (relative: beside the config file's parent), if it exists."""
    directory = Path(config.knowledge.directory)
    if not directory.is_absolute() and config.path is not None:
        candidate = config.path.parent.parent / directory
        directory = candidate if candidate.is_dir() else directory
    return directory if directory.is_dir() else None


def load_knowledge(config: DeskConfig) -> KnowledgeBase | None:
    """The files' entries overlaid by the console's (None when the knowledge base is off).

    Raises ConfigError when a knowledge file is broken.
    """
    if not config.knowledge.enabled:
        return None
    directory = knowledge_directory(config)
    if directory is None and not config.knowledge_entries:
        return None
    entries = read_entries(directory) if directory is not None else []
    return KnowledgeBase(overlay(entries, config.knowledge_entries), config.knowledge.thresholds)


def knowledge_source(config: DeskConfig) -> tuple[Any, ...]:
    """What the knowledge base is built from: equal sources give the same knowledge base."""
    return (config.path, config.knowledge, config.knowledge_entries)


def asks_for_human(text: str) -> bool:
    lowered = text.strip().lower()
    return len(lowered) <= 40 and any(word in lowered for word in HUMAN_WORDS)


def confirms_solved(text: str, language: str | None) -> bool:
    return is_confirmation(text, language or "zh")


@dataclass(frozen=True)
class Lookup:
    """One question to the answerer: what `Answerer.answer` is called with."""

    text: str
    category: str | None
    language: str
    short: bool


Found = AutoAnswer | LookupFailure | None


class AnswerSource(Protocol):
    """What the respond stage and the bot ask: an `Answerer`, or `PrefetchedAnswers`."""

    def answer(self, text: str, category: str | None, language: str, short: bool) -> Found: ...


class PrefetchedAnswers:
    """Answers looked up before the write transaction, replayed inside it.

    A stage plans its lookups from what it read (`respond.lookups`), `fetch` asks the answerer
    with no transaction open (the order system over HTTP, knowledge retrieval), and the stage's
    short write transaction asks this object the same questions. A chain of lookups stops at the
    first that finds something (an answer or an order-system failure), as the stage does. A
    question that was not planned (the request changed in between) finds nothing here: the
    customer then gets the acknowledgement, and no call goes out while the database is locked.
    """

    def __init__(self, found: dict[Lookup, Found]) -> None:
        self.found = found

    @classmethod
    def fetch(cls, answerer: Answerer, chain: list[Lookup]) -> PrefetchedAnswers:
        found: dict[Lookup, Found] = {}
        for lookup in chain:
            found[lookup] = answerer.answer(
                lookup.text, lookup.category, lookup.language, lookup.short
            )
            if found[lookup] is not None:
                break
        return cls(found)

    def answer(self, text: str, category: str | None, language: str, short: bool) -> Found:
        lookup = Lookup(text, category, language, short)
        if lookup not in self.found:
            log.info("answer_not_prefetched", category=category, language=language)
            return None
        return self.found[lookup]
