"""Verify, decrypt and normalise what WeChat pushes to an Official Account (protocols 2). No I/O."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatException

from omnidesk.errors import BadPayload, SignatureError
from omnidesk.inbound import Attachment, InboundMessage, Sender

MAX_KEY_LENGTH = 512
VOICE_TYPES = {"amr": "audio/amr", "speex": "audio/speex", "mp3": "audio/mpeg"}
# Automatic: stored (and attached to an open request) but never opening one nor answered.
EVENT_PREFIX = "wechat_event:"
QR_SCENE_PREFIX = "qrscene_"

Fields = Mapping[str, str]
Described = tuple[str, tuple[Attachment, ...]]


@dataclass(frozen=True)
class PushKeys:
    """What authenticates a push: the console Token, our AppID and, in safe mode, the AES keys."""

    token: str
    app_id: str
    aes_keys: tuple[str, ...] = ()
    max_skew: int = 300


# -- signatures (2.1, 2.2) ----------------------------------------------------------------------


def signature(*parts: str) -> str:
    """WeChat's `signature`/`msg_signature`: sha1 of the parts, sorted and concatenated."""
    joined = "".join(sorted(parts)).encode("utf-8")
    return hashlib.sha1(joined).hexdigest()  # noqa: S324 - the protocol is SHA-1


def _check(expected: str, given: str, name: str) -> None:
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise SignatureError(f"{name} does not match")


def _required(query: Mapping[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not query.get(name)]
    if missing:
        raise SignatureError(f"missing {', '.join(missing)}")
    return [query[name] for name in names]


def check_fresh(timestamp: str, now: float, max_skew: int) -> None:
    """Refuse a timestamp further than `max_skew` seconds from now (a replayed request)."""
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SignatureError("timestamp is not a number of seconds")
    if abs(now - int(timestamp)) > max_skew:
        raise SignatureError("stale timestamp (possible replay)")


def verify_url(keys: PushKeys, query: Mapping[str, str], now: float) -> str:
    """The `echostr` to echo for a genuine server-URL verification GET (2.1)."""
    sig, timestamp, nonce, echostr = _required(query, "signature", "timestamp", "nonce", "echostr")
    _check(signature(keys.token, timestamp, nonce), sig, "signature")
    check_fresh(timestamp, now, keys.max_skew)
    return echostr


def open_push(keys: PushKeys, query: Mapping[str, str], body: bytes, now: float) -> dict[str, str]:
    """The fields of an authentic push: signature and age first, then the body (decrypted).

    In safe mode `signature` covers only token/timestamp/nonce, so the body must also carry a valid
    `msg_signature` over its `Encrypt`; the plain fields of a compatible-mode push are ignored.
    """
    sig, timestamp, nonce = _required(query, "signature", "timestamp", "nonce")
    _check(signature(keys.token, timestamp, nonce), sig, "signature")
    check_fresh(timestamp, now, keys.max_skew)
    fields = read_xml(body)
    if not keys.aes_keys:
        if "Encrypt" in fields and "MsgType" not in fields:
            raise BadPayload("an encrypted push, but this connector has no encoding_aes_key")
        return fields
    if query.get("encrypt_type") != "aes" or not fields.get("Encrypt"):
        raise SignatureError("safe mode: the push must be encrypted (encrypt_type=aes)")
    (msg_signature,) = _required(query, "msg_signature")
    encrypt = fields["Encrypt"]
    _check(signature(keys.token, timestamp, nonce, encrypt), msg_signature, "msg_signature")
    plain = decrypt(keys, encrypt, msg_signature, timestamp, nonce)
    return read_xml(plain.encode("utf-8"))


def decrypt(keys: PushKeys, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The plaintext of `Encrypt`, with the current key or else the previous one (2.2)."""
    for aes_key in keys.aes_keys:
        crypto = WeChatCrypto(keys.token, aes_key, keys.app_id)
        try:
            plain: str = crypto.decrypt_message(
                {"Encrypt": encrypt}, msg_signature, timestamp, nonce
            )
        except (WeChatException, ValueError, IndexError, TypeError, struct.error):
            continue  # wrong key (garbage padding or length) or another account's AppID
        return plain
    raise SignatureError("Encrypt does not decrypt to a message for this AppID with our key(s)")


# -- XML ----------------------------------------------------------------------------------------


def read_xml(data: bytes) -> dict[str, str]:
    """The child elements of a WeChat `<xml>` document; any DTD or entity is refused unread."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadPayload(f"XML with a DTD or entities is refused ({type(exc).__name__})") from exc
    except (ParseError, ValueError) as exc:
        raise BadPayload(f"the body is not well-formed XML: {exc}") from exc
    if root.tag != "xml":
        raise BadPayload("the root element is not <xml>")
    return {child.tag: child.text or "" for child in root}


# -- normalisation (2.3) ------------------------------------------------------------------------


def parse(fields: Fields, connector: str, received_at: datetime | None = None) -> InboundMessage:
    """A push's fields as an InboundMessage; events are automatic (no request, no reply)."""
    openid = _field(fields, "FromUserName")
    kind = _field(fields, "MsgType")
    text, attachments = DESCRIBE.get(kind, _other)(fields)
    return InboundMessage(
        channel="wechat",
        connector=connector,
        provider_message_id=dedupe_key(fields),
        sender=Sender(kind="wechat", address=openid),
        recipient=fields.get("ToUserName") or None,
        sent_at=_create_time(fields),
        received_at=received_at or datetime.now(UTC),
        text=text,
        attachments=attachments,
        automatic=f"{EVENT_PREFIX}{_field(fields, 'Event').lower()}" if kind == "event" else None,
    )


def dedupe_key(fields: Fields) -> str:
    """MsgId for messages; for events FromUserName+CreateTime plus Event and EventKey (2.4)."""
    if fields.get("MsgType") == "event":
        head = f"event:{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}"
        key = f"{head}:{fields.get('Event', '')}:{fields.get('EventKey', '')}"
        if len(key) <= MAX_KEY_LENGTH:
            return key
        digest = hashlib.sha256(fields.get("EventKey", "").encode()).hexdigest()
        return f"{head}:{fields.get('Event', '')}:sha256:{digest}"[:MAX_KEY_LENGTH]
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    if msg_id:
        return msg_id
    parts = (fields.get(name, "") for name in ("MsgType", "FromUserName", "CreateTime"))
    return ":".join(parts)


def _field(fields: Fields, name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise BadPayload(f"the push has no {name}")
    return value


def _create_time(fields: Fields) -> datetime:
    value = _field(fields, "CreateTime")
    if not (value.isascii() and value.isdigit()):
        raise BadPayload("CreateTime is not a number of seconds")
    return datetime.fromtimestamp(int(value), UTC)


def _text(fields: Fields) -> Described:
    return fields.get("Content", ""), ()


def _image(fields: Fields) -> Described:
    image = Attachment(
        content_type="image/jpeg", url=fields.get("PicUrl") or None, content_id=_media(fields)
    )
    return "[图片]", (image,)


def _voice(fields: Fields) -> Described:
    fmt = fields.get("Format", "").lower()
    voice = Attachment(
        content_type=VOICE_TYPES.get(fmt, "application/octet-stream"), content_id=_media(fields)
    )
    # WeChat's speech recognition, when the account has it on, is what the customer said.
    return fields.get("Recognition", "").strip() or "[语音]", (voice,)


def _video(fields: Fields) -> Described:
    label = "[小视频]" if fields.get("MsgType") == "shortvideo" else "[视频]"
    return label, (Attachment(content_type="video/mp4", content_id=_media(fields)),)


def _location(fields: Fields) -> Described:
    where = f"({fields.get('Location_X', '')}, {fields.get('Location_Y', '')})"
    label = fields.get("Label", "").strip()
    return f"[位置] {label} {where}" if label else f"[位置] {where}", ()


def _link(fields: Fields) -> Described:
    parts = (fields.get(name, "").strip() for name in ("Title", "Description", "Url"))
    return "\n".join(["[链接]", *(p for p in parts if p)]), ()


def _event(fields: Fields) -> Described:
    event, key = fields.get("Event", ""), fields.get("EventKey", "").strip()
    if event == "subscribe":
        scene = key.removeprefix(QR_SCENE_PREFIX) if key.startswith(QR_SCENE_PREFIX) else ""
        return (f"[扫码关注] 场景 {scene}" if scene else "[关注公众号]"), ()
    if event == "LOCATION":
        where = f"({fields.get('Latitude', '')}, {fields.get('Longitude', '')})"
        return f"[上报位置] {where} 精度 {fields.get('Precision', '')}", ()
    label = EVENT_LABELS.get(event, f"[事件] {event}")
    return (f"{label} {key}" if key else label), ()


def _other(fields: Fields) -> Described:
    return f"[{fields.get('MsgType', '')}]", ()


def _media(fields: Fields) -> str | None:
    # The provider's id of the media (fetched through the media API), not our storage key.
    return fields.get("MediaId") or None


EVENT_LABELS = {
    "unsubscribe": "[取消关注]",
    "SCAN": "[扫描二维码] 场景",
    "CLICK": "[点击菜单]",
    "VIEW": "[打开菜单链接]",
}
DESCRIBE: dict[str, Callable[[Fields], Described]] = {
    "text": _text,
    "image": _image,
    "voice": _voice,
    "video": _video,
    "shortvideo": _video,
    "location": _location,
    "link": _link,
    "event": _event,
}
