"""Threading helpers: subject tags and prefixes, Message-IDs, reply headers (RFC 5322 3.6.4)."""

from __future__ import annotations

import re

import pytest

from connectors.email.threading import (
    MAX_REFERENCES,
    make_message_id,
    message_ids,
    normalise_subject,
    reply_headers,
    reply_subject,
    subject_tag,
)

SUBJECTS = {
    # subject as received → (tag, normalised subject)
    "Re: 订单什么时候发货 [#1215]": (1215, "订单什么时候发货"),
    "RE: RE: Complaint: damaged blender [#1042]": (1042, "Complaint: damaged blender"),
    "回复：回复: 申请退货退款：电饭煲内胆有划痕 [#1187]": (1187, "申请退货退款：电饭煲内胆有划痕"),
    "答复: 回复: 关于您的退货申请 [#1187]": (1187, "关于您的退货申请"),
    "回复:Re: 关于订单TP20240301000123的退款进度查询 [#1203]": (
        1203,
        "关于订单TP20240301000123的退款进度查询",
    ),
    "转发: 发票一直没收到": (None, "发票一直没收到"),
    "Fwd: FW: Order confirmation TP20240304015566": (None, "Order confirmation TP20240304015566"),
    "Re[2]: [#77] Where is my parcel?": (77, "Where is my parcel?"),
    "AW: Rückfrage [#9] [#12]": (12, "Rückfrage"),
    "Re:   spaced    out  ": (None, "spaced out"),
    "Order #1234 question": (None, "Order #1234 question"),
    "Reply needed: order TP1": (None, "Reply needed: order TP1"),
    "": (None, ""),
}


@pytest.mark.parametrize("subject", SUBJECTS, ids=list(SUBJECTS))
def test_subject_tag_and_normalised_subject_are_read_from_a_subject(subject: str) -> None:
    assert (subject_tag(subject), normalise_subject(subject)) == SUBJECTS[subject]


def test_a_missing_subject_has_no_tag_and_normalises_to_empty() -> None:
    assert (subject_tag(None), normalise_subject(None)) == (None, "")


def test_reply_subject_strips_prefixes_and_old_tags_and_adds_ours() -> None:
    assert reply_subject("回复：Re: 订单什么时候发货 [#12]", 1215) == "Re: 订单什么时候发货 [#1215]"


def test_reply_subject_of_an_empty_subject_is_just_the_tag() -> None:
    assert reply_subject(None, 7) == "Re: [#7]"


def test_reply_references_the_parents_references_then_the_parent() -> None:
    assert reply_headers("<c@x>", ("a@x", "<b@x>")) == ("<c@x>", "<a@x> <b@x> <c@x>")


def test_reply_to_a_parent_without_references_falls_back_to_its_in_reply_to() -> None:
    assert reply_headers("c@x", None, parent_in_reply_to="<b@x> (sent by x)") == (
        "<c@x>",
        "<b@x> <c@x>",
    )


def test_reply_to_a_first_message_references_only_the_parent() -> None:
    assert reply_headers("<first@icloud.com>", ()) == ("<first@icloud.com>", "<first@icloud.com>")


def test_reply_accepts_the_parents_references_as_a_raw_header_value() -> None:
    raw = "<a@x>\r\n <b@x>, <a@x>"
    assert reply_headers("<c@x>", raw) == ("<c@x>", "<a@x> <b@x> <c@x>")


def test_long_reference_chains_keep_the_first_and_the_latest_ids() -> None:
    chain = tuple(f"m{n}@x" for n in range(30))

    _, references = reply_headers("<parent@x>", chain)

    kept = [f"<m{n}@x>" for n in (0, *range(30 - MAX_REFERENCES + 2, 30))] + ["<parent@x>"]
    assert references.split() == kept


def test_message_ids_reads_bracketed_and_bare_ids_without_duplicates() -> None:
    assert message_ids("<a@x> <b@x>\n <a@x>") == ("a@x", "b@x")
    assert message_ids("a@x b@x") == ("a@x", "b@x")
    assert message_ids("no id here") == ()
    assert message_ids(None) == ()


def test_our_message_ids_carry_the_request_id_and_are_unique() -> None:
    first, second = make_message_id(1215, "tpshop.com"), make_message_id(1215, "tpshop.com")

    assert re.fullmatch(r"<1215\.[0-9a-f]{32}@tpshop\.com>", first)
    assert first != second
