"""Text normalisation for triage: NFKC widths, traditional → simplified, replies, salutations.

Triage reads at most `MAX_CHARS` characters of a message: `normalize` keeps the first
`MAX_CHARS` (before and after NFKC, which can lengthen a text) and `strip_quoted` looks for the
quoted earlier message only within them. Everything downstream (the model's features, the
rules, the entities, knowledge retrieval) therefore sees at most `MAX_CHARS` characters, and
every pattern here is linear in them: the sign-off pattern runs on RE2 (omnidesk.patterns), the
others are anchored or bounded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from omnidesk.patterns import PY_SPACE, compile_linear

MAX_CHARS = 4000
"""How much of a message triage reads (see the module's docstring)."""
# Zero-width characters and the BOM: invisible, but they split words and n-grams.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Where a reply quotes the previous message (Gmail, Outlook, Apple Mail, Chinese clients).
_QUOTE_START = re.compile(
    r"^(?:On .{4,200} wrote:|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*原始邮件\s*-{2,}|"
    r"From: .+|发件人[:：].+|在 .{4,100}写道[:：]|>.*)$",
    re.MULTILINE,
)
# Greetings that open and sign-offs that close a message: they say nothing about its category.
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening)|dear)"
    r"(?: (?:there|again|all|everyone|team|folks|guys|sir|or|madam|sir/madam|tp|the|support|"
    r"customer|service|care|cs))*|to whom it may concern|to the (?:[a-z]+ ){0,2}team|"
    r"(?:tp)?客服(?:你|您)好|(?:你|您)好(?:呀|啊)?|尊敬的客服|亲爱的客服|哈喽|嗨|亲|在吗|打扰一下|麻烦问下)"
    r"\s*[,.!:;\n，。！：；~～]+\s*",
    re.IGNORECASE,
)
# A sign-off ends the text. RE2, not `re`: backtracking over its three runs of white space took
# seconds on a long one. RE2 has no lookbehind, so the punctuation or Han character a sign-off
# may follow is matched and put back (`_keep`); PY_SPACE is Python's \s.
_SIGN_OFF = compile_linear(
    rf"(?:^|\n|(?P<mark>[.!?。！？,，]) ?|(?P<han>[\x{{3400}}-\x{{9fff}}]) ){PY_SPACE}*"
    r"(?:(?:many )?thanks?(?: you)?(?: very much| so much| in advance| again)?|thx|cheers|"
    r"(?:best|kind|warm)? ?regards|best(?: wishes)?|sincerely|yours (?:truly|sincerely)|"
    r"all the best|sent from .{0,40}|--|"
    r"谢谢(?:啦|你|您)?|多谢|辛苦(?:了|啦)|期待(?:您的)?回复|盼复|祝好|此致敬礼|发自我的.{0,20}|——.{0,20})"
    rf"[ ,.!。！~～]*(?:\n.{{0,40}}){{0,3}}{PY_SPACE}*$",
    ignore_case=True,
)
# Variants that t2s leaves alone but shoppers write both ways; folded so one spelling is learned.
_VARIANTS = {"帐号": "账号", "帐户": "账户", "甚么": "什么", "麽": "么", "噉": "咁"}
_VARIANT_RE = re.compile("|".join(map(re.escape, _VARIANTS)))

# A small fallback table (traditional → simplified) for when OpenCC is not installed: the
# characters customer-service messages use most. OpenCC covers all of them and phrases too.
_FALLBACK_T2S = str.maketrans(
    "萬與專業東絲丟兩嚴個豐爲為舉麼義樂習書買亂於雲產親僅從倉儀們價衆眾優會傳體餘償兒關興內冊寫"
    "決況凍淨準幾憑擊劃則剛刪別辦務動勁區華協單賣衛卻歷壓廚參雙發變臺號喫後嗎聽唄員諮響嘍囂團圍"
    "國圖場壞塊墊聲殼壺處備復夠頭媽嫺嫻學寶實審寬對導將盡屬歲幣師帳帶幫並廣慶牀庫應開異張強當錄"
    "徑懷態惡慘憤願戲戶掃擾護報擔擁攔撥擇掛損換據攬擺數斷無舊時顯暫術機雜權條來極櫃棟樣橋檢樓歡"
    "氣溝沒洩測漲溫遊溼濕滿點爍煩燒熱愛狀獨貓環現瓊電監盜盤碼確禮離種積稱稅穩筆籤簡類紅約級紀純"
    "紙線細紹經綁絨結給絡絕統續維縫網羣職聯肅膚膠腦臉騰節範薦獲營藍慮虛雖補裝褲見規視計訂認討讓"
    "訓議記講論設訪證評識詐訴試誠話詢該詳語誤說説請諾諉誰調談謝譜貝負責敗賬貨質購貼貴貿費資賠賺"
    "贊贈蹤車轉載較輸邊達過運還這進違連遲跡適選遞郵鄰鄭採釋裏裡針鍾鈕錢銀鏈銷鎖錯鍵長門閃閉問間"
    "隊陽陰際險隨靜頁項順須顧預領頻題顏額風飯饋駁駕驛罵驗騙騷驟鳥",
    "万与专业东丝丢两严个丰为为举么义乐习书买乱于云产亲仅从仓仪们价众众优会传体余偿儿关兴内册写"
    "决况冻净准几凭击划则刚删别办务动劲区华协单卖卫却历压厨参双发变台号吃后吗听呗员咨响喽嚣团围"
    "国图场坏块垫声壳壶处备复够头妈娴娴学宝实审宽对导将尽属岁币师帐带帮并广庆床库应开异张强当录"
    "径怀态恶惨愤愿戏户扫扰护报担拥拦拨择挂损换据揽摆数断无旧时显暂术机杂权条来极柜栋样桥检楼欢"
    "气沟没泄测涨温游湿湿满点烁烦烧热爱状独猫环现琼电监盗盘码确礼离种积称税稳笔签简类红约级纪纯"
    "纸线细绍经绑绒结给络绝统续维缝网群职联肃肤胶脑脸腾节范荐获营蓝虑虚虽补装裤见规视计订认讨让"
    "训议记讲论设访证评识诈诉试诚话询该详语误说说请诺诿谁调谈谢谱贝负责败账货质购贴贵贸费资赔赚"
    "赞赠踪车转载较输边达过运还这进违连迟迹适选递邮邻郑采释里里针钟钮钱银链销锁错键长门闪闭问间"
    "队阳阴际险随静页项顺须顾预领频题颜额风饭馈驳驾驿骂验骗骚骤鸟",
)


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    try:
        import opencc
    except ImportError:
        return lambda text: text.translate(_FALLBACK_T2S)
    converter = opencc.OpenCC("t2s")
    convert: Callable[[str], str] = converter.convert
    return convert


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC if installed, else a common-character table)."""
    return _VARIANT_RE.sub(lambda m: _VARIANTS[m.group(0)], _t2s()(text))


def strip_quoted(text: str) -> str:
    """Drop the quoted earlier message of an email reply, keeping what the customer wrote now.

    Only the first MAX_CHARS characters are searched: triage reads no further.
    """
    match = _QUOTE_START.search(text, 0, MAX_CHARS)
    if match is None or match.start() == 0:
        return text
    return text[: match.start()]


def _keep(sign_off: Any) -> str:
    """What a sign-off match gives back: the punctuation or Han character it follows."""
    return str(sign_off.group("mark") or sign_off.group("han") or "")


def strip_salutations(text: str) -> str:
    """Drop an opening greeting and a closing sign-off, unless nothing else would remain."""
    body = _GREETING.sub("", _GREETING.sub("", text, count=1), count=1)
    body = _SIGN_OFF.sub(_keep, body, count=1).strip()
    return body or text


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), simplified Chinese, tidy whitespace; case is kept."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])[:MAX_CHARS].translate(_INVISIBLE)
    if any("\u3400" <= ch <= "\u9fff" for ch in text):
        text = to_simplified(text)
    text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()
