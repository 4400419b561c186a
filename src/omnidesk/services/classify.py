"""Stage 2, classify: label a new request with category, priority and language.

The labeller is pluggable (`Labeller`); the default is a small keyword labeller that knows the
desk's categories in Chinese and English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from omnidesk.models import Message, Priority, Request
from omnidesk.services import events
from omnidesk.services.pipeline import Task


@dataclass(frozen=True)
class Label:
    category: str
    confidence: float
    priority: Priority
    language: str
    needs_triage: bool = False
    entities: dict[str, list[str]] = field(default_factory=dict)
    rule: str | None = None


class Labeller(Protocol):
    def label(self, text: str, subject: str | None, channel: str | None) -> Label: ...


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")

_KEYWORDS: dict[str, tuple[str, ...]] = {
    "complaint": (
        "投诉",
        "12315",
        "律师",
        "曝光",
        "complain",
        "complaint",
        "unacceptable",
        "lawyer",
    ),
    "after_sales": (
        "退货",
        "换货",
        "退款",
        "维修",
        "退换",
        "return",
        "refund",
        "exchange",
        "repair",
    ),
    "payment": (
        "付款",
        "支付",
        "发票",
        "扣款",
        "扣了两次",
        "payment",
        "invoice",
        "charged",
        "pay ",
    ),
    "order": (
        "订单",
        "物流",
        "快递",
        "发货",
        "到哪",
        "order",
        "tracking",
        "delivery",
        "shipped",
        "parcel",
    ),
    "account": (
        "登录",
        "密码",
        "账号",
        "注册",
        "login",
        "log in",
        "password",
        "account",
        "sign up",
    ),
    "product": ("库存", "尺码", "规格", "价格", "有货", "stock", "size", "price", "spec"),
    "contact": (
        "人工",
        "客服电话",
        "热线",
        "营业时间",
        "human",
        "agent",
        "hotline",
        "phone number",
        "hours",
    ),
}
_URGENT = ("12315", "律师", "曝光", "媒体", "lawyer", "chargeback", "press")


def language_of(text: str) -> str:
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return "other"
    return "zh" if cjk * 3 >= latin else "en"


class KeywordLabeller:
    """Keywords per category, first match by a fixed precedence; complaints outrank the rest."""

    def label(self, text: str, subject: str | None = None, channel: str | None = None) -> Label:
        blob = f"{subject or ''}\n{text}".lower()
        language = language_of(blob)
        for category, words in _KEYWORDS.items():
            hits = [w for w in words if w in blob]
            if hits:
                priority = Priority.HIGH if category == "complaint" else Priority.NORMAL
                if any(w in blob for w in _URGENT):
                    priority = Priority.URGENT
                return Label(category, 0.6, priority, language, rule=f"keyword:{hits[0]}")
        return Label("other", 0.2, Priority.NORMAL, language, needs_triage=True)


def run(session: Session, message: Message, labeller: Labeller) -> list[Task]:
    """Label the message's request once; later messages of the same request change nothing here."""
    if message.request_id is None:
        return []
    request = session.get(Request, message.request_id)
    if request is None or request.category is not None:
        return []
    label = labeller.label(message.text, message.subject, message.channel)
    request.category = label.category
    request.category_confidence = label.confidence
    request.priority = label.priority
    request.language = label.language
    request.needs_triage = label.needs_triage
    session.add(request)
    events.record(
        session,
        "classified",
        request_id=request.id,
        message_id=message.id,
        category=label.category,
        confidence=round(label.confidence, 4),
        priority=str(label.priority),
        language=label.language,
        needs_triage=label.needs_triage,
        rule=label.rule,
        entities=label.entities,
    )
    return []
