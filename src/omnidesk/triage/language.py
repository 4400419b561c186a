"""Language of a message: zh, en or other, from scripts and a few hundred common words."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["zh", "en", "other"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_OTHER_SCRIPT = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff\u0e00-\u0e7f]")
_LATIN_WORD = re.compile(r"[a-zà-öø-ÿāăąćčďđēęěğīıłńňōőœřśşšţťūůűźżžơư]+")
_NON_ENGLISH_LETTER = re.compile(r"[à-öø-ÿāăąćčďđēęěğīıłńňōőœřśşšţťūůűźżžơưß]")

_ENGLISH_WORDS = """
    a about account after again all already am an and any anyone are arrive arrived as at back
    be because been before broken but buy by call can cancel cant card change charged check
    code come could customer damaged day days delivered delivery did didnt do does dont email
    for from get getting give got had has have help hello hey hi how i if im in invoice is it
    its item just know last like login me money my need never no not now of ok on one or order
    package password pay payment phone please pls price problem received refund replacement
    return right said same service shipped shipping should size so some someone still stock support
    sure than thank thanks that the there this time to today tracking two up us want was we week
    were what when where which why will with work would wrong yes yet you your
    """
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
# Common words of other Latin-script languages that are not also English words.
_FOREIGN_WORDS = """
    el la los las del que y en un una por para con es mi pedido dónde donde está esta hola gracias
    le les des du est et je mon ma pas pour avec commande bonjour merci où très
    der das und ist ich nicht mein meine bestellung wo mit für hallo danke bitte
    o os da em não meu minha obrigado olá você
    il lo gli di che è non mio ordine grazie ciao
    saya tidak dan yang pesanan terima kasih apa ini itu
    tôi không của và đơn hàng
    """
_FOREIGN = frozenset(_FOREIGN_WORDS.split())


def detect_language(text: str) -> Language:
    """Zh when Chinese carries the message (so "我的order还没到"), else en or other."""
    han = len(_HAN.findall(text))
    if _KANA.search(text) or _HANGUL.search(text):
        return "other"
    lowered = text.lower()
    words = _LATIN_WORD.findall(lowered)
    # A Chinese word is about 1.5 characters; Chinese wins unless clearly outnumbered.
    if han and han / 1.5 >= 0.5 * len(words):
        return "zh"
    if len(_OTHER_SCRIPT.findall(text)) > sum(map(len, words)):
        return "other"
    if not words:
        return "zh" if han else "other"
    english = sum(1 for w in words if w in _ENGLISH)
    foreign = sum(1 for w in words if w in _FOREIGN or _NON_ENGLISH_LETTER.search(w))
    return "other" if foreign > english else "en"
