"""Order-status lookup in the shop's order system (an HTTP endpoint), and how to tell it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from omnidesk.errors import OmnideskError
from omnidesk.patterns import LinearPattern, NotLinear, check_linear, compile_linear

DEFAULT_ORDER_NUMBER_PATTERN = r"\b\d{10,20}\b"
MAX_SCAN_CHARS = 4000
"""How much of a message is searched for order numbers."""
_PATH = r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$"


class OrderSystemUnavailable(OmnideskError):
    """The order system did not give a usable answer (timeout, refusal, 5xx, bad JSON)."""


class OrderFields(BaseModel):
    """Where each value sits in the order system's JSON: dotted paths ("data.shipping.status")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_number: str = Field(default="order_number", pattern=_PATH)
    status: str = Field(default="status", pattern=_PATH)
    carrier: str = Field(default="carrier", pattern=_PATH)
    tracking_number: str = Field(default="tracking_number", pattern=_PATH)
    eta: str = Field(default="eta", pattern=_PATH)


class OrderSystemConfig(BaseModel):
    """The `[order_system]` table. Header values are secrets: never logged, hidden in repr."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://[^/\s]+/\S*\{order_number\}\S*$")
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    order_number_pattern: str = DEFAULT_ORDER_NUMBER_PATTERN
    timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    fields: OrderFields = OrderFields()

    @field_validator("order_number_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            return check_linear(value)
        except NotLinear as exc:
            raise ValueError(f"order_number_pattern: {exc}") from None

    @property
    def host(self) -> str:
        """The order system's host, safe to show (the URL's query could hold a key)."""
        return urlsplit(self.url).netloc


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """What the order system says about one order."""

    order_number: str
    status: str
    carrier: str | None = None
    tracking_number: str | None = None
    eta: str | None = None


def json_path(data: Any, path: str) -> Any:
    """The value at a dotted path ("data.items.0.status"), or None when any step is missing."""
    for step in path.split("."):
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


def find_order_numbers(
    text: str, pattern: str | LinearPattern = DEFAULT_ORDER_NUMBER_PATTERN
) -> list[str]:
    """Distinct order numbers in the first MAX_SCAN_CHARS characters of a message, in order.

    The pattern runs on RE2 (omnidesk.patterns), linear in the text, where `\\b` and `\\d` are
    ASCII-only (as with re.ASCII): in Python's Unicode mode a Han character is a word character
    and "订单1234567890到哪了" has no `\\b` around the digits. Full-width digits are folded first
    (NFKC). A pattern with a group returns the first group.
    """
    compiled = compile_linear(pattern) if isinstance(pattern, str) else pattern
    found = [
        match.group(1) if compiled.groups else match.group(0)
        for match in compiled.finditer(unicodedata.normalize("NFKC", text[:MAX_SCAN_CHARS]))
    ]
    return list(dict.fromkeys(n for n in found if n))


class OrderLookup:
    """Looks orders up over HTTP; one client (and its connection pool) per lookup object."""

    def __init__(self, config: OrderSystemConfig, client: httpx.Client | None = None) -> None:
        """Use `client` if given (tests, shared pools), else a client with the config's timeout."""
        self.config = config
        self._client = client or httpx.Client(timeout=config.timeout_seconds)
        self._owns_client = client is None

    def close(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OrderLookup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def find(self, order_number: str) -> OrderStatus | None:
        """The order's status, None for an order the shop does not know (HTTP 404).

        Raises:
            OrderSystemUnavailable: timeout, network error, refused credentials, any other
                non-2xx answer, a body that is not JSON or has no status.
        """
        response = self._get(order_number)
        if response.status_code == 404:
            return None
        self._check(response)
        try:
            data = response.json()
        except ValueError:
            raise self._unavailable("answered with a body that is not JSON") from None
        return self._order(order_number, data)

    def _get(self, order_number: str) -> httpx.Response:
        url = self.config.url.replace("{order_number}", quote(order_number, safe=""))
        headers = {k: v.get_secret_value() for k, v in self.config.headers.items()}
        headers.setdefault("Accept", "application/json")
        try:
            return self._client.get(url, headers=headers, timeout=self.config.timeout_seconds)
        except httpx.TimeoutException:
            raise self._unavailable(
                f"did not answer within {self.config.timeout_seconds:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise self._unavailable(f"could not be reached ({type(exc).__name__})") from None

    def _check(self, response: httpx.Response) -> None:
        code = response.status_code
        if code in (401, 403):
            raise self._unavailable(
                f"refused our credentials (HTTP {code}): check [order_system] headers"
            )
        if not 200 <= code < 300:
            raise self._unavailable(f"answered HTTP {code}")

    def _order(self, order_number: str, data: Any) -> OrderStatus:
        fields = self.config.fields
        status = json_path(data, fields.status)
        if not isinstance(status, str) or not status:
            raise self._unavailable(f"answered without a status at {fields.status!r}")
        number = json_path(data, fields.order_number)
        return OrderStatus(
            order_number=str(number) if number not in (None, "") else order_number,
            status=status,
            carrier=_text(json_path(data, fields.carrier)),
            tracking_number=_text(json_path(data, fields.tracking_number)),
            eta=_text(json_path(data, fields.eta)),
        )

    def _unavailable(self, what: str) -> OrderSystemUnavailable:
        return OrderSystemUnavailable(f"order system at {self.config.host} {what}")


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


# -- telling the customer ------------------------------------------------------------------

# status code → (Chinese name, English predicate after "Your order N ...").
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "pending": ("待处理", "is pending"),
    "unpaid": ("待付款", "is awaiting payment"),
    "awaiting_payment": ("待付款", "is awaiting payment"),
    "paid": ("已付款", "has been paid"),
    "processing": ("处理中", "is being processed"),
    "packed": ("已打包，待发货", "is packed and ready to ship"),
    "shipped": ("已发货", "has been shipped"),
    "in_transit": ("运输中", "is in transit"),
    "out_for_delivery": ("派送中", "is out for delivery"),
    "delivered": ("已签收", "has been delivered"),
    "delayed": ("配送延迟", "is delayed"),
    "exception": ("物流异常", "is held up by a delivery problem"),
    "on_hold": ("暂停处理", "is on hold"),
    "cancelled": ("已取消", "has been cancelled"),
    "canceled": ("已取消", "has been cancelled"),
    "returned": ("已退货", "has been returned"),
    "refunded": ("已退款", "has been refunded"),
}
CARRIERS: tuple[tuple[str, str], ...] = (
    ("顺丰速运", "SF Express"),
    ("京东物流", "JD Logistics"),
    ("中通快递", "ZTO Express"),
    ("圆通速递", "YTO Express"),
    ("韵达快递", "Yunda Express"),
    ("申通快递", "STO Express"),
    ("极兔速递", "J&T Express"),
    ("德邦快递", "Deppon Express"),
    ("中国邮政", "China Post"),
)
HUMAN_OFFER = {
    "zh": ("如需人工客服，请直接回复“人工”。", "回复“人工”转人工客服。"),
    "en": ('Reply "agent" any time to talk to a person.', 'Reply "agent" for a person.'),
}
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def status_name(status: str, language: str) -> str:
    """The status in the customer's language: "已发货" / "has been shipped" (code if unknown)."""
    key = status.strip().lower().replace(" ", "_").replace("-", "_")
    names = STATUS_NAMES.get(key)
    if names is None:
        return f"“{status}”" if _is_zh(language) else f"has the status {status!r}"
    return names[0] if _is_zh(language) else names[1]


def carrier_name(carrier: str, language: str) -> str:
    """A known carrier's name in the customer's language, else as the shop wrote it."""
    folded = carrier.strip().lower()
    for zh, en in CARRIERS:
        if folded in (zh, en.lower()) or zh in carrier or en.lower() in folded:
            return zh if _is_zh(language) else en
    return carrier


def describe(
    order: OrderStatus, language: str, short: bool = False, time_zone: str | None = None
) -> str:
    """The answer to "where is my order": status, carrier, tracking number, expected date.

    `short` is for SMS: one line, well inside two segments. Both end with how to reach a human.
    An expected time with an offset is dated in the desk's `time_zone` (the shop's API may
    answer in UTC: 20:00Z on the 8th is the 9th in Beijing).
    """
    zh = _is_zh(language)
    carrier = carrier_name(order.carrier, language) if order.carrier else None
    shipment = (carrier, order.tracking_number) if carrier and order.tracking_number else None
    finished = order.status.strip().lower() in _FINISHED
    eta = None if finished else _eta(order.eta, zh, time_zone)
    status = status_name(order.status, language)
    offer = HUMAN_OFFER["zh" if zh else "en"][1 if short else 0]
    if zh:
        return _describe_zh(order.order_number, status, shipment, eta, short) + offer
    return _describe_en(order.order_number, status, shipment, eta, short) + " " + offer


def _describe_zh(
    number: str, status: str, shipment: tuple[str, str] | None, eta: str | None, short: bool
) -> str:
    parts = [
        f"您的订单{number}{status}" if short else f"您好，您的订单 {number} 当前状态：{status}"
    ]
    if shipment:
        carrier, tracking = shipment
        parts.append(f"{carrier} {tracking}" if short else f"承运商：{carrier}，运单号：{tracking}")
    if eta:
        parts.append(f"预计{eta}送达")
    return "，".join(parts) + "。"


def _describe_en(
    number: str, status: str, shipment: tuple[str, str] | None, eta: str | None, short: bool
) -> str:
    parts = [f"Your order {number} {status}"]
    if shipment:
        carrier, tracking = shipment
        parts.append(
            f"{carrier} {tracking}" if short else f"carrier {carrier}, tracking number {tracking}"
        )
    if eta:
        parts.append(f"expected {eta}")
    return ("" if short else "Hello! ") + ", ".join(parts) + "."


_FINISHED = frozenset({"delivered", "cancelled", "canceled", "returned", "refunded"})


def _eta(eta: str | None, zh: bool, time_zone: str | None = None) -> str | None:
    if not eta:
        return None
    try:
        moment = datetime.fromisoformat(eta) if "T" in eta else None
        day = date.fromisoformat(eta[:10]) if moment is None else moment.date()
    except ValueError:
        return eta
    if moment is not None and moment.tzinfo is not None and time_zone:
        day = moment.astimezone(ZoneInfo(time_zone)).date()
    return f"{day.month}月{day.day}日" if zh else f"on {day.day} {_MONTHS_EN[day.month - 1]}"


def _is_zh(language: str) -> bool:
    return language.lower().startswith("zh")
