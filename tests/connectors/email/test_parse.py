"""parse_mail against real mails: one case per file in tests/data/email."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from connectors.email.parse import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    Bounce,
    ParsedAttachment,
    ParsedMail,
    parse_mail,
)
from omnidesk.errors import Quarantine
from omnidesk.inbound import Attachment, InboundMessage, Sender, ThreadHints

DATA = Path(__file__).resolve().parents[2] / "data" / "email"
CONNECTOR = "support-mail"
RECEIVED = datetime(2024, 3, 8, 16, 0, tzinfo=UTC)
# huge_attachment__over_limit.eml is a template: the video is generated here, not committed.
PAYLOAD = b"@@PAYLOAD@@"
HUGE = DEFAULT_MAX_ATTACHMENT_BYTES + 1

OURS_1042 = "1042.4f9c2e7b1a8d4c6e9b3f5a7d2c1e8b40@tpshop.com"
OURS_1042_LATER = "1042.2b7e4a9c1d5f4e3a8b6c9d2e1f7a4b90@tpshop.com"
OURS_1187 = "1187.0b6e3d9a2f7c4e18a5d1c9b7e3f2a640@tpshop.com"
OURS_1187_LATER = "1187.5a2d8e1f3b9c4d7e8a6f2b1c9d3e7a50@tpshop.com"
OURS_1203 = "1203.7d2a9f4c1e6b4a3d8c5e2f1b9a7d6c30@tpshop.com"
OURS_1215 = "1215.9e4b7c2d5a1f4e8b9c3d6a2f1e7b5c80@tpshop.com"
OURS_1230 = "1230.3c8f1a6e9d2b4c7a8e5f3b1d9c6a2e10@tpshop.com"
OURS_1250 = "1250.1e7a4c9b2d6f4a8e9c3b5d1f7a2e4c60@tpshop.com"
OURS_1261 = "1261.6f1c3e8a2d9b4f7c8e5a1d3b9c2f6e70@tpshop.com"
OURS_1274 = "1274.8d3a6c1f9e2b4d5a8c7e3f1b2d9a6c40@tpshop.com"
OURS_1288 = "1288.4e9b2c7a1f5d4c8e9a3b6d2f1c7e5a80@tpshop.com"
CARTER_FIRST = "DB9PR02MB7194E0A4C3F2B51D8E6F1A2CB9A82@DB9PR02MB7194.eurprd02.prod.outlook.com"
CARTER_SECOND = "DB9PR02MB71945C1A2B3D4E5F60718293A4B5C@DB9PR02MB7194.eurprd02.prod.outlook.com"
# One-line bodies, where the new text opens and closes on the same line.
ZTO_NOTICE = (
    "尊敬的客户：您寄出的快件 ZT78451236690（收件人：王*，上海市）"
    "因收件人拒收已被退回，预计3月9日送达寄件地址。"
)
WAREHOUSE_NOTE = (
    "客服你好，今天收到一件被拒收退回的包裹，订单号 TP20240229001103（蓝牙耳机），"
    "外包装完好，已登记入库。请安排后续处理。"
)
QQ_AUTO_REPLY = "您好，您的邮件我已收到，我这几天出差，回来后会尽快回复您。——这是一封自动回复邮件。"


class Part(NamedTuple):
    filename: str | None
    content_type: str
    size: int
    content_id: str | None = None
    inline: bool = False
    kept: bool = True


@dataclass(frozen=True)
class Case:
    """What a mail must parse to; `opening`/`closing` are the new text's first and last lines."""

    subject: str | None
    sender: tuple[str, str | None]
    opening: str
    closing: str
    automatic: str | None = None
    attachments: tuple[Part, ...] = ()
    bounce: Bounce | None = None
    thread: ThreadHints = ThreadHints()
    read_receipt: bool = False


def seen(parsed: ParsedMail) -> Case:
    """Project a parse result onto the fields a Case names, to compare whole values."""
    inbound = parsed.inbound
    lines = [line for line in parsed.new_text.splitlines() if line.strip()]
    return Case(
        subject=inbound.subject,
        sender=(inbound.sender.address, inbound.sender.display_name),
        opening=lines[0],
        closing=lines[-1],
        automatic=inbound.automatic,
        attachments=tuple(
            Part(a.filename, a.content_type, a.size, a.content_id, a.inline, a.data is not None)
            for a in parsed.attachments
        ),
        bounce=parsed.bounce,
        thread=inbound.thread,
        read_receipt=parsed.is_read_receipt,
    )


def thread(in_reply_to: str | None, *references: str, tag: int | None = None) -> ThreadHints:
    return ThreadHints(in_reply_to=in_reply_to, references=references, subject_tag=tag)


CASES = {
    # --- customers writing in, by charset and MIME shape
    "order_question__utf8_plain.eml": Case(
        subject="订单 TP20240301000123 什么时候发货？",
        sender=("wangfang88@icloud.com", "王芳"),
        opening="您好，",
        closing="手机：138 1234 5678",
    ),
    "complaint__english.eml": Case(
        subject="Complaint: damaged blender, order TP20240228004417",
        sender=("j.carter@outlook.com", "James Carter"),
        opening="Hello,",
        closing="James Carter",
    ),
    "return_request__with_photo.eml": Case(
        subject="申请退货退款：电饭煲内胆有划痕",
        sender=("liuyang_0817@qq.com", "刘洋"),
        opening="您好：",
        closing="刘洋",
        attachments=(Part("内胆划痕.jpg", "application/octet-stream", 150),),
    ),
    "exchange_request__signature.eml": Case(
        subject="Exchange: kettle TP20240301007788 makes a loud noise",
        sender=("a.schmidt@posteo.example", "Anna Schmidt"),
        opening="Hello,",
        closing="Anna",
    ),
    "gbk_body__encoded_subject.eml": Case(
        subject="快递显示已签收但没收到货",
        sender=("zhaolei1987@sina.com", "赵磊"),
        opening="客服您好：",
        closing="2024年3月6日",
    ),
    "gb2312_mislabelled__gbk_chars.eml": Case(
        subject="榨汁机故障-陈镕",
        sender=("chenrong@chinahr-corp.cn", "陈镕"),
        opening="您好，",
        closing="陈镕",
    ),
    "utf8_mislabelled__gb2312_label.eml": Case(
        subject="会员积分能抵运费吗",
        sender=("fengxue@139.example", "冯雪"),
        opening="您好，我想咨询一下，TP的会员积分可以抵扣运费吗？订单 TP20240308000321 还没付款。",
        closing="——冯雪",
    ),
    "big5__traditional.eml": Case(
        subject="查詢訂單出貨",
        sender=("taiman.chan@netvigator.com", "陳大文"),
        opening="你好，",
        closing="陳大文",
    ),
    "no_charset__8bit_gbk.eml": Case(
        subject="台灯灯罩破裂，申请更换",
        sender=("qianwei@jsfactory.com.cn", "qianwei"),
        opening="客服你好：",
        closing="钱伟",
    ),
    "no_charset__8bit_latin1.eml": Case(
        subject="Verseuse de cafetière cassée à la livraison",
        sender=("clement.dubois@laposte.example", "Clément Dubois"),
        opening="Bonjour,",
        closing="Clément Dubois",
    ),
    "split_encoded_words__subject.eml": Case(
        subject="关于订单TP20240301000123的退款进度查询",
        sender=("sunxiaomei_sh@126.com", "孙晓梅"),
        opening=(
            "你好，我3月2日申请的退款（订单TP20240301000123）到现在还没有到账，"
            "退款状态一直是“处理中”。请帮忙查一下大概什么时候能到，谢谢。"
        ),
        closing="孙晓梅",
    ),
    "rfc2231__chinese_filename.eml": Case(
        subject="发票申请 TP20240301000123",
        sender=("zhou.ting@mingyuan-trade.com", "周婷"),
        opening="您好，",
        closing="谢谢！",
        attachments=(
            Part("发票申请表（订单TP20240301000123）.pdf", "application/pdf", 142),
            Part("收货地址变更说明.txt", "text/plain", 74),
        ),
    ),
    "quoted_encoded_filename.eml": Case(
        subject="退货申请单",
        sender=("lirong_work@foxmail.com", "李镕"),
        opening="您好：",
        closing="李镕",
        attachments=(Part("退货申请单-镕.xlsx", "application/octet-stream", 100),),
    ),
    "html_only__table_layout.eml": Case(
        subject="三个订单只收到两个包裹",
        sender=("wujie@kelian-tech.com", "吴杰"),
        opening="客服您好：",
        closing="深圳市科联电子有限公司 采购部 | 电话 0755-86001234",
    ),
    "multipart_related__inline_image.eml": Case(
        subject="换货申请提交失败",
        sender=("huanglei@bjmedia.cn", "黄蕾"),
        opening="您好，",
        closing="黄蕾",
        attachments=(
            Part("image001.png", "image/png", 70, "image001.png@01DA6FB8.4C2D1E30", inline=True),
        ),
    ),
    "nested__mixed_alternative_related.eml": Case(
        subject="Wrong colour received - exchange please",
        sender=("emily.zhang@me.com", "Emily Zhang"),
        opening="Hi,",
        closing="Emily Zhang",
        attachments=(
            Part(
                "IMG_4821.png",
                "image/png",
                70,
                "3F7A2B91-8C4D-4E6F-A1B2-C3D4E5F6A7B8@home",
                inline=True,
            ),
            Part("Invoice_TP20240302006677.pdf", "application/pdf", 142),
        ),
    ),
    "broken_mime__missing_boundary.eml": Case(
        subject="修改收货地址",
        sender=("zhenghao_hz@yeah.net", "郑浩"),
        opening=(
            "您好，我的订单 TP20240305002231 收货地址填错了，"
            "能不能在发货前改成：杭州市西湖区文三路398号。"
        ),
        closing="郑浩",
    ),
    "huge_attachment__over_limit.eml": Case(
        subject="扫地机器人开机报错E12，视频见附件",
        sender=("linchen.dev@gmail.com", "林晨"),
        opening="您好，",
        closing="林晨",
        attachments=(
            Part("报错视频.mp4", "video/mp4", HUGE, "f_lth2k9x60", kept=False),
            Part("铭牌.jpg", "image/jpeg", 55, "f_lth2k9y71"),
        ),
    ),
    "no_message_id.eml": Case(
        subject="拒收包裹登记 TP20240229001103",
        sender=("scanner@ningbo-warehouse.example", "宁波仓 前台"),
        opening=WAREHOUSE_NOTE,
        closing=WAREHOUSE_NOTE,
    ),
    "forward__gmail_note.eml": Case(
        subject="Fwd: Order confirmation TP20240304015566",
        sender=("kim.minji.92@gmail.com", "Minji Kim"),
        opening=(
            "I was charged twice for this order (see my bank statement, "
            "two payments of 299.00 on 4 March). Please refund one of them."
        ),
        closing="Minji",
        thread=thread(
            "order.TP20240304015566.1709554500@tpshop.com",
            "order.TP20240304015566.1709554500@tpshop.com",
        ),
    ),
    "forward__message_attachment.eml": Case(
        subject="转发: 发票一直没收到",
        sender=("zhou.ting@mingyuan-trade.com", "周婷"),
        opening="你们说发票会随商品寄出，但商品收到了，发票没有。原邮件见附件。",
        closing="周婷",
        attachments=(Part(None, "message/rfc822", 466),),
    ),
    # --- replies: only what the customer just wrote is the new text
    "reply__outlook_en.eml": Case(
        subject="RE: Complaint: damaged blender, order TP20240228004417 [#1042]",
        sender=("j.carter@outlook.com", "James Carter"),
        opening="Hello,",
        closing="James Carter",
        thread=thread(
            OURS_1042_LATER, CARTER_FIRST, OURS_1042, CARTER_SECOND, OURS_1042_LATER, tag=1042
        ),
    ),
    "reply__outlook_plain_en.eml": Case(
        subject="RE: Complaint: damaged blender, order TP20240228004417 [#1042]",
        sender=("j.carter@outlook.com", "James Carter"),
        opening="Hi,",
        closing="James",
        thread=thread(OURS_1042, CARTER_FIRST, OURS_1042, tag=1042),
    ),
    "reply__outlook_zh.eml": Case(
        subject="答复: 回复: 申请退货退款：电饭煲内胆有划痕 [#1187]",
        sender=("liuyang@zhongda-law.cn", "刘洋"),
        opening="好的，我今天下午就把电饭煲寄回去，快递单号寄出后再发给你们。",
        closing="刘洋",
        thread=thread(
            OURS_1187, "tencent_3B7E0C5A9D41F6E28A1C4B7D0E92F35A1B07@qq.com", OURS_1187, tag=1187
        ),
    ),
    "reply__outlook_365_zh.eml": Case(
        subject="回复: 关于您的退货申请 [#1187]",
        sender=("hejing@huaxin-group.cn", "何静"),
        opening="收到，谢谢。另外想问一下退款是原路退回吗？大概几个工作日到账？",
        closing="何静",
        thread=thread(OURS_1187_LATER, OURS_1187, OURS_1187_LATER, tag=1187),
    ),
    "reply__gmail_en.eml": Case(
        subject="Re: Where is my order TP20240305009911? [#1261]",
        sender=("daniel.okafor.uk@gmail.com", "Daniel Okafor"),
        opening=(
            'Thanks! The tracking page says "label created" only, is that normal after two days?'
        ),
        closing="Daniel",
        thread=thread(
            OURS_1261,
            "CAJx7Ld2oWq9Kz8TnY3vB5m1Pf4Rh6Ue0Sa2Xc7Gd9Vb1Nk3Mj@mail.gmail.com",
            OURS_1261,
            tag=1261,
        ),
    ),
    "reply__gmail_zh.eml": Case(
        subject="Re: 快递显示已签收但没收到货 [#1274]",
        sender=("zhaolei.bj@gmail.com", "赵磊"),
        opening="收到，今天已经拿到快递了，谢谢你们！",
        closing="赵磊",
        thread=thread(OURS_1274, "20240306010541.6B2A1C0E4@webmail.sina.com", OURS_1274, tag=1274),
    ),
    "reply__qq_mail.eml": Case(
        subject="回复：回复: 申请退货退款：电饭煲内胆有划痕 [#1187]",
        sender=("liuyang_0817@qq.com", "刘洋"),
        opening="退货快递已经寄出了，顺丰单号 SF1402399876543，麻烦查收后尽快退款。",
        closing="刘洋",
        thread=thread(OURS_1187, OURS_1187, tag=1187),
    ),
    "reply__163.eml": Case(
        subject="回复:Re: 关于订单TP20240301000123的退款进度查询 [#1203]",
        sender=("sunxiaomei_sh@126.com", "孙晓梅"),
        opening="已经到账了，谢谢！",
        closing="sunxiaomei_sh@126.com",
        thread=thread(
            OURS_1203,
            "5c8d1e2f.3a41.18e12b4c5d6.Coremail.sunxiaomei_sh@126.com",
            OURS_1203,
            tag=1203,
        ),
    ),
    "reply__foxmail.eml": Case(
        subject="回复: 回复: 台灯灯罩破裂，申请更换 [#1250]",
        sender=("qianwei@jsfactory.com.cn", "qianwei@jsfactory.com.cn"),
        opening="好的，那我等换货的新灯罩到了再把旧的寄回去。",
        closing="qianwei@jsfactory.com.cn",
        thread=thread(None, "202403062221301718625@jsfactory.com.cn", OURS_1250, tag=1250),
    ),
    "reply__bottom_posted.eml": Case(
        subject="Re: Size exchange for order TP20240306012345 [#1288]",
        sender=("pnovak@fastmail.example", "Petr Novak"),
        opening="Size 42 please, the 41 is a little tight at the toes.",
        closing="Size 42 please, the 41 is a little tight at the toes.",
        thread=thread(OURS_1288, OURS_1288, tag=1288),
    ),
    # --- automatic mail: stored, never answered automatically
    "auto_reply__auto_submitted.eml": Case(
        subject="Out of office: travelling until 15 March",
        sender=("emily.r.hughes@gmail.com", "Emily Hughes"),
        opening=(
            "I'm travelling until 15 March with limited access to email. "
            "For anything urgent about my orders please call me on +44 7700 900123."
        ),
        closing="Emily",
        automatic="auto_submitted",
        thread=thread(OURS_1203, OURS_1203),
    ),
    "auto_reply__x_autoreply_qq.eml": Case(
        subject="自动回复: 回复：订单TP20240301000777发货通知 [#1042]",
        sender=("liming_1990@qq.com", "李明"),
        opening=QQ_AUTO_REPLY,
        closing=QQ_AUTO_REPLY,
        automatic="x_autoreply",
        thread=thread(None, tag=1042),
    ),
    "out_of_office__outlook_zh.eml": Case(
        subject="自动答复: 关于您的退货申请 [#1187]",
        sender=("hejing@huaxin-group.cn", "何静"),
        opening="您好，",
        closing="何静",
        automatic="x_auto_response_suppress",
        thread=thread(OURS_1187, OURS_1187, tag=1187),
    ),
    "precedence_bulk__newsletter.eml": Case(
        subject="三八节寄件优惠来啦，满30减5",
        sender=("noreply@edm.sf-express.example", "顺丰速运"),
        opening="三八节寄件优惠来啦",
        closing="立即查看：https://www.sf-express.example/promo/0308",
        automatic="precedence_bulk",
    ),
    "list_mail__list_id.eml": Case(
        subject="[Partners] Spring sale logistics cut-off",
        sender=("kevin.wu@mallpartners.example", "Kevin Wu"),
        opening="Hi all,",
        closing="To unsubscribe send an email to partners-leave@lists.mallpartners.example",
        automatic="list_mail",
    ),
    "auto_notice__noreply_sender.eml": Case(
        subject="您的快件 ZT78451236690 已被退回",
        sender=("no-reply@notice.ztoexpress.example", "中通快递"),
        opening=ZTO_NOTICE,
        closing=ZTO_NOTICE,
        automatic="noreply_sender",
    ),
    # --- reports about our own mail
    "bounce__multipart_report.eml": Case(
        subject="Undelivered Mail Returned to Sender",
        sender=("mailer-daemon@mx1.tpshop.com", "Mail Delivery System"),
        opening="This is the mail system at host mx1.tpshop.com.",
        closing="    for name=gmial.com type=MX: Host not found, try again",
        automatic="auto_submitted",
        bounce=Bounce(
            action="failed",
            status="5.4.4",
            diagnostic=(
                "Host or domain name not found. Name service error "
                "for name=gmial.com type=MX: Host not found, try again"
            ),
            final_recipient="wangfang.88@gmial.com",
            original_message_id=OURS_1215,
        ),
    ),
    "bounce__exchange_ndr.eml": Case(
        subject="Undeliverable: Re: Bulk order quotation [#1230]",
        sender=("postmaster@huaxin-group.cn", None),
        opening="Your message to buyer@huaxin-group.cn couldn't be delivered.",
        closing=(
            "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
            "Recipient not found by SMTP address lookup'"
        ),
        automatic="auto_submitted",
        bounce=Bounce(
            action="failed",
            status="5.1.10",
            diagnostic=(
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
                "Recipient not found by SMTP address lookup"
            ),
            final_recipient="buyer@huaxin-group.cn",
            original_message_id=OURS_1230,
        ),
        thread=thread(OURS_1230, OURS_1230, tag=1230),
    ),
    "bounce__qq_mailer_daemon.eml": Case(
        subject="退信：Re: 退货申请进度 [#1187]",
        sender=("mailer-daemon@qq.com", "Mail Delivery System"),
        opening="很抱歉您发送的邮件被退回，以下是该邮件的相关信息：",
        closing=f"Message-ID: <{OURS_1187}>",
        automatic="null_return_path",
        bounce=Bounce(
            action="failed",
            status="5.2.2",
            diagnostic="552 5.2.2 Mailbox full, user zhangsan_2019@qq.com is over quota",
            final_recipient="zhangsan_2019@qq.com",
            original_message_id=OURS_1187,
        ),
        thread=thread(None, tag=1187),
    ),
    "read_receipt__mdn.eml": Case(
        subject="已读: Re: 发票申请 TP20240301000123 [#1203]",
        sender=("zhou.ting@mingyuan-trade.com", "周婷"),
        opening="您的邮件",
        closing="已于 2024/3/8 11:40 读取。",
        automatic="read_receipt",
        thread=thread(None, tag=1203),
        read_receipt=True,
    ),
}

QUARANTINED = {
    "empty.eml": "empty: the mail has no bytes",
    "garbage__not_a_mail.eml": "not_a_mail: no header lines",
    "garbage__headers_without_sender.eml": "no_sender: no From, Sender or Return-Path address",
}


def load(name: str) -> bytes:
    """A corpus file's bytes; a template's payload is generated (keeps the repository small)."""
    raw = (DATA / name).read_bytes()
    if PAYLOAD in raw:
        raw = raw.replace(PAYLOAD, base64.encodebytes(bytes(HUGE)).rstrip(b"\n"))
    return raw


def parse(name: str) -> ParsedMail:
    return parse_mail(load(name), connector=CONNECTOR, received_at=RECEIVED)


def test_every_mail_in_the_corpus_has_a_case() -> None:
    assert sorted(p.name for p in DATA.glob("*.eml")) == sorted([*CASES, *QUARANTINED])


@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_mail_parses_to_its_expected_values(name: str) -> None:
    assert seen(parse(name)) == CASES[name]


@pytest.mark.parametrize("name", QUARANTINED, ids=list(QUARANTINED))
def test_unreadable_mail_is_quarantined_with_its_reason(name: str) -> None:
    with pytest.raises(Quarantine) as raised:
        parse(name)
    assert str(raised.value) == QUARANTINED[name]


def test_customer_mail_becomes_a_whole_inbound_message() -> None:
    assert parse("order_question__utf8_plain.eml").inbound == InboundMessage(
        channel="email",
        connector=CONNECTOR,
        provider_message_id="8E2D1B7C-5A4F-4C3E-9B1A-0F6D2E8C7A51@icloud.com",
        sender=Sender(kind="email", address="wangfang88@icloud.com", display_name="王芳"),
        recipient="service@tpshop.com",
        sent_at=datetime(2024, 3, 5, 2, 14, 21, tzinfo=UTC),
        received_at=RECEIVED,
        subject="订单 TP20240301000123 什么时候发货？",
        text=(
            "您好，\n\n我在3月1日下的订单 TP20240301000123 到现在还显示“待发货”，"
            "请问什么时候能发货？订单里是一台空气炸锅，想在周末前收到。\n\n"
            "麻烦帮我查一下，谢谢！\n\n王芳\n手机：138 1234 5678"
        ),
    )


def test_reply_carries_the_new_text_and_keeps_the_history_in_full_text() -> None:
    # Given a Gmail reply quoting our answer
    parsed = parse("reply__gmail_zh.eml")

    # Then the message text is what the customer just wrote, the full text holds the quote
    assert parsed.inbound.text == parsed.new_text == "收到，今天已经拿到快递了，谢谢你们！\n\n赵磊"
    assert parsed.full_text == (
        "收到，今天已经拿到快递了，谢谢你们！\n\n赵磊\n\n"
        "在 2024年3月8日周五 10:20，TP官方客服 <service@tpshop.com> 写道：\n\n"
        "> 您好，您的订单TP20240304011265已联系快递公司核实，快递员确认误投到了隔壁小区的丰巢柜，"
        "今天会重新派送。给您带来不便，非常抱歉。\n>\n> TP官方客服"
    )
    assert parsed.inbound.html is not None
    assert parsed.inbound.html.startswith('<div dir="ltr">收到，今天已经拿到快递了')


def test_html_only_mail_is_rendered_as_readable_text_with_its_table() -> None:
    parsed = parse("html_only__table_layout.eml")

    assert parsed.new_text == (
        "客服您好：\n\n以下三个订单是同一天下的，但只收到了两个包裹，请帮忙核对：\n\n"
        "订单号               商品    状态\n"
        "TP20240229001101  保温杯   已签收\n"
        "TP20240229001102  电动牙刷  已签收\n"
        "TP20240229001103  蓝牙耳机  运输中\n\n"
        "蓝牙耳机的物流信息三天没有更新了。\n\n谢谢！\n吴杰\n\n"
        "深圳市科联电子有限公司 采购部 | 电话 0755-86001234"
    )
    assert parsed.inbound.html is not None
    assert parsed.inbound.html.startswith("<html><head><meta charset=")


def test_inline_image_bytes_are_returned_for_the_caller_to_store() -> None:
    parsed = parse("multipart_related__inline_image.eml")

    (image,) = parsed.attachments
    assert image.data is not None
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 'src="cid:image001.png@01DA6FB8.4C2D1E30"' in (parsed.inbound.html or "")


def test_attachment_over_the_limit_is_recorded_with_a_note_but_not_kept() -> None:
    video, _ = parse("huge_attachment__over_limit.eml").attachments

    assert video == ParsedAttachment(
        filename="报错视频.mp4",
        content_type="video/mp4",
        size=HUGE,
        content_id="f_lth2k9x60",
        inline=False,
        data=None,
        note="not kept: 26214401 bytes is over the 26214400-byte limit",
    )


def test_storage_keys_are_filled_in_attachment_order() -> None:
    parsed = parse("nested__mixed_alternative_related.eml")

    inbound = parsed.with_storage_keys(["att/1.png", "att/2.pdf"])

    assert inbound.attachments == (
        Attachment(
            filename="IMG_4821.png",
            content_type="image/png",
            size=70,
            storage_key="att/1.png",
            content_id="3F7A2B91-8C4D-4E6F-A1B2-C3D4E5F6A7B8@home",
            inline=True,
        ),
        Attachment(
            filename="Invoice_TP20240302006677.pdf",
            content_type="application/pdf",
            size=142,
            storage_key="att/2.pdf",
        ),
    )


def test_mail_without_message_id_or_date_gets_a_stable_synthetic_id() -> None:
    raw = load("no_message_id.eml")

    inbound = parse("no_message_id.eml").inbound

    assert inbound.provider_message_id == f"sha256:{hashlib.sha256(raw).hexdigest()}"
    assert inbound.sent_at is None


def test_broken_multipart_is_read_and_the_defect_recorded() -> None:
    parsed = parse("broken_mime__missing_boundary.eml")

    assert parsed.defects == ("NoBoundaryInMultipartDefect",)
    assert parsed.inbound.html is not None


def test_unreadable_date_leaves_sent_at_empty_and_records_a_defect() -> None:
    raw = load("complaint__english.eml").replace(
        b"Date: Wed, 6 Mar 2024 08:41:12 +0000", b"Date: 2024\xe5\xb9\xb43\xe6\x9c\x886\xe6\x97\xa5"
    )

    parsed = parse_mail(raw, connector=CONNECTOR)

    assert parsed.inbound.sent_at is None
    assert parsed.defects == ("InvalidDateHeader",)


def test_leading_blank_lines_do_not_hide_the_headers() -> None:
    parsed = parse_mail(b"\r\n" + load("complaint__english.eml"), connector=CONNECTOR)

    assert parsed.inbound.subject == "Complaint: damaged blender, order TP20240228004417"
