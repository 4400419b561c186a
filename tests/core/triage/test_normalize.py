"""Normalisation and language detection: widths, scripts, replies, salutations."""

from __future__ import annotations

import opencc
import pytest

from omnidesk.triage.language import detect_language
from omnidesk.triage.normalize import (
    _FALLBACK_T2S,
    normalize,
    strip_quoted,
    strip_salutations,
    to_simplified,
)


def test_full_width_letters_digits_and_punctuation_become_half_width() -> None:
    assert normalize("ＯＲＤＥＲ１２３４５６７８９０！？") == "ORDER1234567890!?"


def test_full_width_yen_sign_becomes_the_ordinary_one() -> None:
    assert normalize("￥１９９") == "¥199"


def test_traditional_characters_become_simplified() -> None:
    assert normalize("我的訂單還沒到，請問甚麼時候發貨？") == "我的订单还没到,请问什么时候发货?"


def test_both_spellings_of_account_end_up_the_same() -> None:
    assert to_simplified("帳號") == to_simplified("账号") == "账号"


def test_the_fallback_table_agrees_with_opencc_on_every_character_it_has() -> None:
    # Given the table used when OpenCC is missing, and OpenCC itself
    converter = opencc.OpenCC("t2s")
    # Then each traditional character maps as OpenCC maps it
    disagreements = [
        chr(k) for k, v in _FALLBACK_T2S.items() if converter.convert(chr(k)) != chr(int(v))
    ]
    assert disagreements == []
    assert "訂單還沒到".translate(_FALLBACK_T2S) == "订单还没到"


def test_invisible_characters_and_extra_blank_lines_are_removed() -> None:
    assert normalize("re\u200bfund\r\n\r\n\r\n\r\nplease\u3000now") == "refund\n\nplease now"


def test_latin_only_text_is_left_alone_apart_from_whitespace() -> None:
    assert normalize("  Where is my ORDER?  ") == "Where is my ORDER?"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Where is it?\n\nOn Mon, 3 Jun 2024, TP <s@tp.cn> wrote:\n> refund sent", "Where is it?"),
        ("还没到\n\n在 2024年6月3日 TP客服 写道：\n> 已发货", "还没到"),
        ("ok\n-----Original Message-----\nFrom: TP", "ok"),
        ("> quoted first\nthen mine", "> quoted first\nthen mine"),
    ],
    ids=["gmail", "chinese-client", "outlook", "starts-with-quote"],
)
def test_the_quoted_earlier_message_of_a_reply_is_dropped(text: str, kept: str) -> None:
    assert strip_quoted(text).strip() == kept


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("Hello,\n\nI received my order.\n\nBest regards,\nMichael", "I received my order."),
        ("Hi, my order is late. Thanks.", "my order is late."),
        ("客服你好:\n物流不动了\n谢谢!", "物流不动了"),
        ("哈喽,包装没拆,可以退吗\n辛苦了", "包装没拆,可以退吗"),
        ("Dear TP,\nHi, I need an invoice", "I need an invoice"),
        ("Thank you so much", "Thank you so much"),
        ("好的 谢谢", "好的"),
        ("Hi there!", "Hi there!"),
        ("Thanks for nothing, your service is awful", "Thanks for nothing, your service is awful"),
    ],
)
def test_greetings_and_sign_offs_are_stripped_unless_nothing_else_remains(
    text: str, left: str
) -> None:
    assert strip_salutations(text) == left


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我的订单还没到", "zh"),
        ("我的order还没到", "zh"),
        ("我的訂單還沒到", "zh"),
        ("refund什么时候到账", "zh"),
        ("Where is my order?", "en"),
        ("Hi, my 订单 hasn't arrived yet, can you check?", "en"),
        ("wheres my pakage", "en"),
        ("¿Dónde está mi pedido? Gracias", "other"),
        ("Wo ist meine Bestellung? Danke", "other"),
        ("注文した商品がまだ届きません", "other"),
        ("주문한 상품이 아직 안 왔어요", "other"),
        ("Где мой заказ?", "other"),
        ("👍", "other"),
        ("1234567890", "other"),
    ],
)
def test_the_language_is_zh_en_or_other(text: str, language: str) -> None:
    assert detect_language(normalize(text)) == language
