"""Must-not-miss rules, priority cues, sentiment and the priority they add up to."""

from __future__ import annotations

import pytest

from omnidesk.triage.config import TriageConfig
from omnidesk.triage.normalize import normalize
from omnidesk.triage.priority import NEGATIVE_CUE, decide_priority
from omnidesk.triage.rules import NO_HIT, RuleHit, Rules


@pytest.fixture(scope="module")
def rules(config: TriageConfig) -> Rules:
    return Rules(config)


ESCALATIONS = [
    ("再不处理我就去12315投诉", "regulator_or_legal"),
    ("已经联系律师了", "regulator_or_legal"),
    ("我已經聯繫律師了", "regulator_or_legal"),
    ("I'm contacting my lawyer", "regulator_or_legal"),
    ("I will sue you in small claims court", "regulator_or_legal"),
    ("reported you to the Better Business Bureau", "regulator_or_legal"),
    ("我要在微博上曝光你们", "media_exposure"),
    ("再不给说法就去找媒体", "media_exposure"),
    ("I'm going to the press with this", "media_exposure"),
    ("I will file a chargeback with my bank", "chargeback"),
    ("已向银行申请拒付", "chargeback"),
    ("充电宝充电时冒烟起火了", "safety_hazard"),
    ("the charger caught fire", "safety_hazard"),
]


@pytest.mark.parametrize(("text", "rule"), ESCALATIONS, ids=[e[0] for e in ESCALATIONS])
def test_escalation_cues_force_complaint_and_urgent(rules: Rules, text: str, rule: str) -> None:
    hit = rules.check(normalize(text))
    assert (hit.category, hit.rule, hit.priority) == ("complaint", rule, "urgent")


@pytest.mark.parametrize(
    "text",
    ["扣了两次钱", "重复扣款了", "同一笔被扣了两次", "I was charged twice", "double-charged!"],
)
def test_a_double_payment_is_payment_and_high(rules: Rules, text: str) -> None:
    hit = rules.check(normalize(text))
    assert (hit.category, hit.rule, hit.priority) == ("payment", "double_payment", "high")


@pytest.mark.parametrize(
    "text",
    [
        "这是我第三次联系你们了",
        "问了好几遍了没人理",
        "This is the third time I'm asking",
        "I have emailed you 4 times",
    ],
)
def test_asking_again_is_a_complaint_with_high_priority(rules: Rules, text: str) -> None:
    hit = rules.check(normalize(text))
    assert (hit.category, hit.rule, hit.priority) == ("complaint", "asked_again", "high")


def test_someone_else_in_the_account_is_an_urgent_account_matter(rules: Rules) -> None:
    hit = rules.check(normalize("账号被盗了，有人用我的账号下单"))
    assert (hit.category, hit.priority) == ("account", "urgent")


def test_the_first_category_rule_decides_and_the_highest_priority_wins(rules: Rules) -> None:
    hit = rules.check(normalize("charged twice, I'm calling my lawyer"))
    assert hit.category == "complaint"
    assert hit.rule == "regulator_or_legal"
    assert hit.priority == "urgent"
    assert hit.fired == ("regulator_or_legal", "double_payment")


def test_an_sms_unsubscribe_reply_is_other_only_on_sms(rules: Rules) -> None:
    assert rules.check("TD", "sms").category == "other"
    assert rules.check("TD", "wechat") == NO_HIT
    assert rules.check("please stop the delivery", "sms").category is None


def test_a_priority_cue_raises_priority_without_choosing_a_category(rules: Rules) -> None:
    hit = rules.check(normalize("能加急发货吗，急用"))
    assert (hit.category, hit.rule, hit.priority, hit.fired) == (None, None, "high", ("urgency",))


@pytest.mark.parametrize(
    "text",
    [
        "工商银行卡付款失败",  # ICBC, not the regulator
        "社交媒体上看到你们的活动",  # social media, not a threat to go to the press
        "Hi, this is Sue, where is my order?",
        "I applied the coupon",  # "lied" inside a word
        "在抖音上看到这款,有货吗",
    ],
)
def test_ordinary_messages_fire_no_category_rule(rules: Rules, text: str) -> None:
    assert rules.check(normalize(text)).category is None


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("where is my order", 0),
        ("太差了,垃圾服务", 2),
        ("Worst service EVER!!! NEVER again", 3),
        ("😡😡", 2),
    ],
)
def test_negativity_counts_angry_words_shouting_and_marks(
    rules: Rules, text: str, count: int
) -> None:
    assert rules.negativity(normalize(text)) == count


def hit_with(priority: str | None, fired: tuple[str, ...] = ()) -> RuleHit:
    return RuleHit(None, None, 0.0, priority, fired)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base", "hit", "negativity", "expected"),
    [
        ("normal", NO_HIT, 0, "normal"),
        ("low", NO_HIT, 0, "low"),
        ("normal", NO_HIT, 2, "high"),
        ("low", NO_HIT, 5, "normal"),
        ("high", NO_HIT, 5, "high"),  # anger alone never makes a request urgent
        ("normal", hit_with("urgent", ("chargeback",)), 0, "urgent"),
        ("high", hit_with("normal", ("x",)), 0, "high"),  # a rule never lowers priority
    ],
)
def test_priority_is_the_highest_of_category_rules_and_tone(
    base: str, hit: RuleHit, negativity: int, expected: str
) -> None:
    priority, _ = decide_priority(base, hit, negativity, threshold=2)  # type: ignore[arg-type]
    assert priority == expected


def test_the_cues_behind_a_priority_are_reported() -> None:
    _, cues = decide_priority("normal", hit_with("high", ("urgency",)), 3, threshold=2)
    assert cues == ("urgency", NEGATIVE_CUE)
