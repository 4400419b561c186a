"""Canned replies for the reply box, in zh and en: built in, or `reply_*.txt` files beside them.

A desk adds or overrides one with `config/templates/{zh,en}/reply_<name>.txt` (next to the config
file); `$customer_name`, `$request_id`, `$agent_name`, `$desk_name` and `$complaint_ref` are
filled in, and anything else is left as written.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

PREFIX = "reply_"

BUILT_IN: dict[str, dict[str, str]] = {
    "zh": {
        "greeting": "$customer_name您好，我是$desk_name的$agent_name，很高兴为您服务。",
        "order_number": "为了尽快帮您查询，请提供您的订单号（在“我的订单”页面可以找到）。",
        "delay_apology": "非常抱歉让您久等了！我们已加急处理您的请求（#$request_id），"
        "有进展会第一时间通知您。",
        "return_steps": "退换货请在“我的订单”中找到该商品，点击“申请退换货”，填写订单号和原因。"
        "审核通过后我们会提供退货地址，商品需保持原包装并附发票及配件。",
        "complaint_ack": "非常抱歉给您带来不好的体验。您的投诉已登记（编号 $complaint_ref），"
        "我们会认真调查并尽快给您答复。",
        "closing": "请问还有其他可以帮您的吗？如问题已解决，回复“解决了”即可。感谢您的耐心！",
    },
    "en": {
        "greeting": "Hello $customer_name, this is $agent_name from $desk_name. Happy to help.",
        "order_number": "So I can look it up right away, could you send me your order number "
        '(it is on the "My orders" page)?',
        "delay_apology": "I am sorry for the wait! Your request #$request_id is now a priority "
        "and I will let you know as soon as there is news.",
        "return_steps": 'To return or exchange an item, open it in "My orders" and choose '
        '"Return or exchange", with the order number and the reason. Once approved we send '
        "the return address; please keep the original packaging, invoice and accessories.",
        "complaint_ack": "I am very sorry about your experience. Your complaint is registered "
        "(reference $complaint_ref); we will look into it and come back to you soon.",
        "closing": 'Is there anything else I can do for you? If it is solved, just reply "solved". '
        "Thank you for your patience!",
    },
}


def templates(language: str, values: dict[str, object], base: Path | None) -> list[dict[str, str]]:
    """The canned replies of a language, filled in: built-ins first, then the desk's files."""
    lang = language if language in BUILT_IN else "zh"
    texts = dict(BUILT_IN[lang]) | _from_files(base, lang)
    filled = {k: str(v) for k, v in values.items() if v is not None}
    return [
        {"name": name, "text": Template(text).safe_substitute(filled).strip()}
        for name, text in texts.items()
    ]


def _from_files(base: Path | None, lang: str) -> dict[str, str]:
    folder = base / lang if base is not None else None
    if folder is None or not folder.is_dir():
        return {}
    return {
        path.stem.removeprefix(PREFIX): path.read_text(encoding="utf-8")
        for path in sorted(folder.glob(f"{PREFIX}*.txt"))
    }
