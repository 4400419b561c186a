"""`[follow_up]` and `[feedback]` of the TOML file: survey policy, and the tag lists agents use.

    [follow_up]
    survey_delay = "1h"            # after resolution; "0s" sends at once
    quiet_hours = "21:00-09:00"    # in the team's time zone; "" for none
    survey_every_days = 30         # at most one survey per customer in this many days (0: no limit)
    complaint_follow_up_days = 3   # a follow-up task this long after a complaint is resolved

    [feedback]
    resolutions = ["answered", "refunded", {key = "voucher", zh = "发放优惠券", en = "Voucher"}]
    root_causes = ["product_defect", "logistics_delay", "wrong_item"]

A list entry is a key (known keys get their zh and en labels from the defaults) or a table with
`key`, `zh` and `en`. Keys are what the event log and the reports keep; labels are for people.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omnidesk.services.hours_config import parse_clock_time, parse_duration

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,47}$"

DEFAULT_RESOLUTIONS: tuple[tuple[str, str, str], ...] = (
    ("answered", "已解答", "Answered"),
    ("refunded", "已退款", "Refunded"),
    ("replaced", "已换货", "Replaced"),
    ("reshipped", "已补发", "Reshipped"),
    ("compensated", "已补偿", "Compensated"),
    ("passed_on", "已转交相关部门", "Passed to another department"),
    ("no_action", "无需处理", "No action needed"),
    ("other", "其他", "Other"),
)
DEFAULT_ROOT_CAUSES: tuple[tuple[str, str, str], ...] = (
    ("product_defect", "产品质量问题", "Product defect"),
    ("logistics_delay", "物流延误", "Logistics delay"),
    ("wrong_item", "发错货", "Wrong item"),
    ("refund_delay", "退款延迟", "Refund delay"),
    ("service_attitude", "服务态度", "Service attitude"),
    ("order_question", "订单咨询", "Order question"),
    ("customer_misunderstanding", "客户误解", "Customer misunderstanding"),
    ("other", "其他", "Other"),
)
_KNOWN_LABELS = {key: (zh, en) for key, zh, en in (*DEFAULT_RESOLUTIONS, *DEFAULT_ROOT_CAUSES)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FollowUpConfig(_Strict):
    """`[follow_up]`: when a resolved request's customer is surveyed, and complaint follow-ups."""

    survey_delay: str = "1h"
    quiet_hours: str = "21:00-09:00"
    survey_every_days: int = Field(default=30, ge=0, le=3650)
    complaint_follow_up_days: int = Field(default=3, ge=0, le=365)

    @field_validator("survey_delay")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @property
    def delay(self) -> timedelta:
        """How long after resolution the survey is due."""
        return parse_duration(self.survey_delay)

    @property
    def quiet(self) -> tuple[time, time] | None:
        """The (start, end) of the nightly quiet window, or None."""
        return parse_quiet_hours(self.quiet_hours)


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """Parse "21:00-09:00" (may wrap past midnight); "" is no quiet hours."""
    cleaned = text.strip()
    if not cleaned:
        return None
    start, sep, end = cleaned.partition("-")
    if not sep:
        raise ValueError(f'invalid quiet hours {text!r}: use "HH:MM-HH:MM", e.g. "21:00-09:00"')
    window = parse_clock_time(start), parse_clock_time(end)
    if window[0] == window[1]:
        raise ValueError(f"invalid quiet hours {text!r}: start and end are the same time")
    return window


class Choice(_Strict):
    """One tag value: its stable key and its labels."""

    key: str = Field(pattern=KEY_PATTERN)
    zh: str | None = None
    en: str | None = None

    def label(self, language: str | None) -> str:
        text = self.en if language == "en" else self.zh
        return text or self.zh or self.en or self.key


def _choices(value: Any) -> Any:
    """Accept plain keys as well as {key, zh, en} tables; known keys get default labels."""
    if not isinstance(value, list | tuple):
        return value
    out = []
    for item in value:
        if isinstance(item, str):
            zh, en = _KNOWN_LABELS.get(item, (None, None))
            out.append({"key": item, "zh": zh, "en": en})
        else:
            out.append(item)
    return out


def _unique(choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
    keys = [c.key for c in choices]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"duplicate keys: {', '.join(duplicates)}")
    if not choices:
        raise ValueError("the list is empty: give at least one choice")
    return choices


def _defaults(rows: tuple[tuple[str, str, str], ...]) -> tuple[Choice, ...]:
    return tuple(Choice(key=key, zh=zh, en=en) for key, zh, en in rows)


class FeedbackConfig(_Strict):
    """`[feedback]`: the resolutions and root causes an agent may tag a resolved request with."""

    resolutions: tuple[Choice, ...] = _defaults(DEFAULT_RESOLUTIONS)
    root_causes: tuple[Choice, ...] = _defaults(DEFAULT_ROOT_CAUSES)

    @field_validator("resolutions", "root_causes", mode="before")
    @classmethod
    def _as_choices(cls, value: Any) -> Any:
        return _choices(value)

    @field_validator("resolutions", "root_causes")
    @classmethod
    def _no_duplicates(cls, value: tuple[Choice, ...]) -> tuple[Choice, ...]:
        return _unique(value)
