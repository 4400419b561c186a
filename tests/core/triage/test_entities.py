"""Entities: order, tracking and phone numbers, email addresses and amounts."""

from __future__ import annotations

import pytest

from omnidesk.errors import ConfigError
from omnidesk.triage.config import EntityPatterns, TriageConfig, parse_config
from omnidesk.triage.entities import ENTITY_KINDS, EntityExtractor
from omnidesk.triage.normalize import normalize


@pytest.fixture(scope="module")
def extractor(config: TriageConfig) -> EntityExtractor:
    return EntityExtractor(config.entities)


def found(extractor: EntityExtractor, text: str) -> dict[str, list[str]]:
    return {k: v for k, v in extractor.extract(normalize(text)).items() if v}


CASES = [
    # (text, expected non-empty kinds)
    ("订单1234567890到哪了", {"order_numbers": ["1234567890"]}),
    (
        "订单号：２８２１９９３５１８１９０９３７８６５，谢谢",
        {"order_numbers": ["2821993518190937865"]},
    ),
    ("order #123456789012 is late", {"order_numbers": ["123456789012"]}),
    ("单号SF1234567890123查不到", {"tracking_numbers": ["SF1234567890123"]}),
    ("tracking sf1234567890123", {"tracking_numbers": ["SF1234567890123"]}),
    ("圆通YT1234567890123", {"tracking_numbers": ["YT1234567890123"]}),
    ("京东JDV001234567890", {"tracking_numbers": ["JDV001234567890"]}),
    ("UPS 1Z999AA10123456784", {"tracking_numbers": ["1Z999AA10123456784"]}),
    ("EMS EA123456789CN", {"tracking_numbers": ["EA123456789CN"]}),
    ("快递单号75123456789012", {"tracking_numbers": ["75123456789012"]}),
    ("我的手机13812345678", {"phones": ["13812345678"]}),
    ("电话 138 1234 5678", {"phones": ["13812345678"]}),
    ("call +86 138-1234-5678", {"phones": ["+8613812345678"]}),
    ("订单13812345678", {"order_numbers": ["13812345678"]}),
    ("call me at +1 415 555 0199", {"phones": ["+14155550199"]}),
    ("or (212) 555-0123", {"phones": ["2125550123"]}),
    ("热线400-123-4567", {"phones": ["4001234567"]}),
    ("mail Sarah.K@Gmail.com", {"emails": ["sarah.k@gmail.com"]}),
    ("13812345678@qq.com", {"emails": ["13812345678@qq.com"]}),
    ("退了¥199还差50块", {"amounts": ["CNY 199", "CNY 50"]}),
    ("扣了￥1,299.00", {"amounts": ["CNY 1299.00"]}),
    ("多扣了299元 RMB 300", {"amounts": ["CNY 299", "CNY 300"]}),
    ("charged $25.99 and USD 10", {"amounts": ["USD 25.99", "USD 10"]}),
    ("that's 40 dollars", {"amounts": ["USD 40"]}),
    ("where is my order", {}),
    ("买了3件,2024年6月3日下单", {}),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_entities_are_found_and_normalised(
    extractor: EntityExtractor, text: str, expected: dict[str, list[str]]
) -> None:
    assert found(extractor, text) == expected


def test_every_kind_is_present_even_when_empty(extractor: EntityExtractor) -> None:
    assert list(extractor.extract("hello")) == list(ENTITY_KINDS)


def test_entities_of_several_kinds_come_out_in_order_of_appearance(
    extractor: EntityExtractor,
) -> None:
    text = "订单2821993518190937865 快递SF1234567890123 电话13812345678 退¥50和¥20 a@b.cn"
    assert found(extractor, text) == {
        "order_numbers": ["2821993518190937865"],
        "tracking_numbers": ["SF1234567890123"],
        "phones": ["13812345678"],
        "amounts": ["CNY 50", "CNY 20"],
        "emails": ["a@b.cn"],
    }


def test_a_repeated_number_is_listed_once(extractor: EntityExtractor) -> None:
    assert found(extractor, "1234567890 again 1234567890") == {"order_numbers": ["1234567890"]}


def test_the_order_number_pattern_comes_from_the_configuration() -> None:
    # Given a shop whose order numbers are TP + 8 digits
    custom = EntityExtractor(EntityPatterns(order_number=r"\bTP\d{8}\b"))
    # Then those are found, next to Chinese too, and bare digits are not
    assert found(custom, "订单TP12345678到哪了, 1234567890") == {"order_numbers": ["TP12345678"]}


def test_a_bad_order_number_pattern_is_a_config_error_naming_the_key(
    config: TriageConfig,
) -> None:
    data = config.model_dump()
    data["entities"]["order_number"] = r"(\d{10,20}"
    with pytest.raises(ConfigError, match=r"entities\.order_number"):
        parse_config(data, "triage.toml")
