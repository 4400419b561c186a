"""Order-status lookup over the wire against the demo order service, and the answers it makes."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from fakes.orders import FakeOrders
from fakes.twilio import segments
from omnidesk.services.hours_config import HoursConfig, SlaPolicyConfig, due_times
from omnidesk.services.orders import (
    OrderLookup,
    OrderStatus,
    OrderSystemConfig,
    OrderSystemUnavailable,
    describe,
    find_order_numbers,
    json_path,
    status_name,
)

TOKEN = "s3cret-order-token"
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def shop() -> Iterator[FakeOrders]:
    """One demo order service for the cases that leave no state behind."""
    with FakeOrders(token=TOKEN) as server:
        yield server


@pytest.fixture
def own_shop() -> Iterator[FakeOrders]:
    """A demo order service a test may make slow or failing."""
    with FakeOrders(token=TOKEN) as server:
        yield server


def config_for(server: FakeOrders, token: str = TOKEN, **overrides: object) -> OrderSystemConfig:
    data: dict[str, object] = {
        "url": server.url_template,
        "headers": {"Authorization": f"Bearer {token}"},
    }
    return OrderSystemConfig.model_validate(data | overrides)


def lookup(server: FakeOrders, token: str = TOKEN, **overrides: object) -> OrderStatus | None:
    with OrderLookup(config_for(server, token, **overrides)) as orders:
        return orders.find("1234567890")


# -- lookups -----------------------------------------------------------------------------------


def test_a_known_order_is_found_with_its_shipping(shop):
    order = lookup(shop)
    tomorrow = (datetime.now(BEIJING) + timedelta(days=1)).date().isoformat()
    assert order == OrderStatus(
        order_number="1234567890",
        status="shipped",
        carrier="顺丰速运",
        tracking_number="SF1234567890123",
        eta=tomorrow,
    )


def test_an_unknown_order_is_none(shop):
    with OrderLookup(config_for(shop)) as orders:
        assert orders.find("1111111111") is None


def test_an_order_number_is_quoted_into_the_path(shop):
    with OrderLookup(config_for(shop)) as orders:
        assert orders.find("12 34?x=1") is None
    assert shop.requests[-1]["order_number"] == "12 34?x=1"


def test_a_wrong_token_is_reported_as_refused_credentials_without_the_token(shop):
    with pytest.raises(OrderSystemUnavailable) as caught:
        lookup(shop, token="wrong-token")
    message = str(caught.value)
    assert "refused our credentials (HTTP 401)" in message
    assert "[order_system] headers" in message
    assert shop.host in message
    assert "wrong-token" not in message
    assert TOKEN not in message


def test_no_authorization_header_is_refused_too(shop):
    with pytest.raises(OrderSystemUnavailable, match="HTTP 401"):
        lookup(shop, headers={})


def test_a_slow_order_system_times_out_as_unavailable(own_shop):
    own_shop.delay = 0.5
    with pytest.raises(OrderSystemUnavailable, match=r"did not answer within 0\.1 s"):
        lookup(own_shop, timeout_seconds=0.1)


def test_a_failing_order_system_is_unavailable_and_recovers(own_shop):
    own_shop.fail_next(1)
    with pytest.raises(OrderSystemUnavailable, match="answered HTTP 500"):
        lookup(own_shop)
    assert lookup(own_shop) is not None


def test_a_body_that_is_not_json_is_unavailable(own_shop):
    own_shop.garble_next()
    with pytest.raises(OrderSystemUnavailable, match="not JSON"):
        lookup(own_shop)


def test_an_unreachable_order_system_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = OrderSystemConfig(url=f"http://127.0.0.1:{port}/orders/{{order_number}}")
    with OrderLookup(config) as orders, pytest.raises(OrderSystemUnavailable, match="reached"):
        orders.find("1234567890")


# -- field paths -------------------------------------------------------------------------------

NESTED = {
    "1234567890": {
        "code": 0,
        "data": {
            "order": {"no": "1234567890"},
            "shipping": {
                "state": "in_transit",
                "company": "京东物流",
                "waybill": "JDVA00012345678",
                "eta": "2026-12-01T18:00:00+08:00",
            },
        },
    },
    "5555555555": {"code": 0, "data": {"order": {"no": "5555555555"}}},
}
NESTED_FIELDS = {
    "order_number": "data.order.no",
    "status": "data.shipping.state",
    "carrier": "data.shipping.company",
    "tracking_number": "data.shipping.waybill",
    "eta": "data.shipping.eta",
}


def test_configured_field_paths_map_a_nested_response():
    with FakeOrders(orders=NESTED, token=TOKEN) as server:
        order = lookup(server, fields=NESTED_FIELDS)
    assert order == OrderStatus(
        order_number="1234567890",
        status="in_transit",
        carrier="京东物流",
        tracking_number="JDVA00012345678",
        eta="2026-12-01T18:00:00+08:00",
    )


def test_a_response_without_a_status_is_unavailable():
    with (
        FakeOrders(orders=NESTED, token=TOKEN) as server,
        OrderLookup(config_for(server, fields=NESTED_FIELDS)) as orders,
        pytest.raises(OrderSystemUnavailable, match="without a status at 'data.shipping.state'"),
    ):
        orders.find("5555555555")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a", 1),
        ("b.c", "x"),
        ("items.1.sku", "B"),
        ("items.7.sku", None),
        ("b.missing", None),
        ("a.deeper", None),
    ],
)
def test_json_paths_walk_objects_and_lists(path, expected):
    data = {"a": 1, "b": {"c": "x"}, "items": [{"sku": "A"}, {"sku": "B"}]}
    assert json_path(data, path) == expected


# -- the [order_system] table ------------------------------------------------------------------


def test_header_values_are_secret_in_repr_and_dumps():
    config = OrderSystemConfig(
        url="http://127.0.0.1:9400/orders/{order_number}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert TOKEN not in repr(config)
    assert TOKEN not in str(config.model_dump())
    assert config.timeout_seconds == 3
    assert config.fields.status == "status"
    assert config.order_number_pattern == r"\b\d{10,20}\b"


CONFIG_CASES = [
    pytest.param({"url": "http://shop/orders"}, "url", id="no-placeholder"),
    pytest.param({"url": "ftp://shop/orders/{order_number}"}, "url", id="not-http"),
    pytest.param({"order_number_pattern": "(\\d+"}, "not a valid regular expression", id="regex"),
    pytest.param({"timeout_seconds": 0}, "greater than 0", id="timeout"),
    pytest.param({"fields": {"status": "data..status"}}, "fields.status", id="field-path"),
    pytest.param({"fields": {"colour": "x"}}, "Extra inputs", id="unknown-field"),
]


@pytest.mark.parametrize(("overrides", "message"), CONFIG_CASES)
def test_bad_order_system_tables_are_refused(overrides, message):
    data = {"url": "http://127.0.0.1:9400/orders/{order_number}"} | overrides
    with pytest.raises(ValidationError, match=message):
        OrderSystemConfig.model_validate(data)


# -- order numbers in messages -----------------------------------------------------------------

EXTRACTION_CASES = [
    pytest.param("订单1234567890到哪了", ["1234567890"], id="cjk-either-side"),
    pytest.param("我的订单号是2024112500123，请查一下", ["2024112500123"], id="cjk-punctuation"),
    pytest.param("订单１２３４５６７８９０怎么还没发货", ["1234567890"], id="full-width-digits"),
    pytest.param("Where is order #9876543210?", ["9876543210"], id="english"),
    pytest.param("1234567890 和 5566778899 两单", ["1234567890", "5566778899"], id="two"),
    pytest.param("订单1234567890，订单1234567890", ["1234567890"], id="repeated-once"),
    pytest.param("订单12345到哪了", [], id="too-short"),
    pytest.param("运单号SF1234567890123", [], id="tracking-number-is-not-an-order"),
    pytest.param("", [], id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACTION_CASES)
def test_order_numbers_are_found_in_chinese_and_english_text(text, expected):
    assert find_order_numbers(text, r"\b\d{10,20}\b") == expected


def test_unicode_word_boundaries_would_miss_numbers_next_to_chinese():
    # Why find_order_numbers compiles with re.ASCII: Han characters are \w in Unicode mode.
    assert re.findall(r"\b\d{10,20}\b", "订单1234567890到哪了") == []


def test_a_pattern_with_a_group_returns_the_group():
    pattern = r"(?:订单号?|order\s*#?)\s*[:：]?\s*(\d{6,20})"
    assert find_order_numbers("订单号：884422 已付款", pattern) == ["884422"]


# -- answers -----------------------------------------------------------------------------------

SHIPPED = OrderStatus("1234567890", "shipped", "顺丰速运", "SF1234567890123", "2026-11-26")


def test_the_chinese_answer_tells_status_carrier_tracking_and_date():
    text = describe(SHIPPED, "zh")
    for part in ("1234567890", "已发货", "顺丰速运", "SF1234567890123", "11月26日", "人工"):
        assert part in text


def test_the_english_answer_names_the_carrier_in_english():
    text = describe(SHIPPED, "en")
    assert "Your order 1234567890 has been shipped" in text
    assert "SF Express" in text
    assert "26 November" in text
    assert "agent" in text


@pytest.mark.parametrize(
    ("status", "zh", "en"),
    [
        ("shipped", "已发货", "has been shipped"),
        ("in_transit", "运输中", "is in transit"),
        ("In Transit", "运输中", "is in transit"),
        ("out-for-delivery", "派送中", "is out for delivery"),
        ("delivered", "已签收", "has been delivered"),
        ("processing", "处理中", "is being processed"),
        ("cancelled", "已取消", "has been cancelled"),
        ("canceled", "已取消", "has been cancelled"),
        ("lost_in_space", "“lost_in_space”", "has the status 'lost_in_space'"),
    ],
)
def test_statuses_are_translated(status, zh, en):
    assert status_name(status, "zh") == zh
    assert status_name(status, "en") == en


def test_an_expected_time_in_utc_is_dated_by_the_desks_calendar():
    # 20:00 UTC on 25 November is 04:00 on the 26th in Beijing: the customer is told the 26th
    late = OrderStatus("1234567890", "shipped", "顺丰速运", "SF1", "2026-11-25T20:00:00+00:00")
    assert "预计11月26日送达" in describe(late, "zh", time_zone="Asia/Shanghai")
    assert "expected on 26 November" in describe(late, "en", time_zone="Asia/Shanghai")
    assert "预计11月25日送达" in describe(late, "zh", time_zone="America/Los_Angeles")


def test_a_delivered_order_has_no_expected_date():
    delivered = OrderStatus(
        "2024112500123", "delivered", "京东物流", "JDVA00012345678", "2026-11-23"
    )
    assert "预计" not in describe(delivered, "zh")
    assert "expected" not in describe(delivered, "en")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_short_answers_for_every_demo_order_fit_two_sms_segments(shop, language):
    with OrderLookup(config_for(shop)) as orders:
        for number in shop.orders:
            order = orders.find(number)
            assert order is not None
            assert segments(describe(order, language, short=True)) <= 2


# -- the "done when", as far as these parts go -------------------------------------------


def test_a_late_night_chinese_order_question_gets_its_status_and_a_next_morning_due_time(shop):
    # Given a WeChat message at 23:00 Beijing time on a Wednesday
    received = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    text = "你好，请问订单1234567890到哪了？"
    config = config_for(shop)
    # When omnidesk finds the order number and asks the demo order service
    numbers = find_order_numbers(text, config.order_number_pattern)
    with OrderLookup(config) as orders:
        order = orders.find(numbers[0])
    assert order is not None
    answer = describe(order, "zh")
    first_response, _ = due_times(
        SlaPolicyConfig(name="orders", category="order", first_response="2h", resolution="3d"),
        HoursConfig().business_hours(),
        received,
    )
    # Then the answer has the shipping status, and a human is due after 09:00 next workday
    assert "已发货" in answer
    assert "顺丰速运" in answer
    assert "SF1234567890123" in answer
    assert first_response > datetime(2026, 11, 26, 9, 0, tzinfo=BEIJING)
