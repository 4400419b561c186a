"""MIME decoding helpers: charsets, header values, parameters and HTML to text (protocols 4.2)."""

from __future__ import annotations

import codecs
import email.message
import re
from collections.abc import Iterable
from email.errors import HeaderParseError
from email.header import decode_header
from email.utils import getaddresses

from charset_normalizer import from_bytes
from inscriptis import get_text  # type: ignore[import-untyped]
from inscriptis.css_profiles import CSS_PROFILES  # type: ignore[import-untyped]
from inscriptis.model.config import ParserConfig  # type: ignore[import-untyped]

# Chinese mailers label GBK (and GB18030) text as GB2312: decode by the superset, or characters
# such as 镕 silently become U+FFFD (protocols 4.2). Big5 mail uses the Hong Kong extensions.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "x-euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
}

# Labels that say nothing about 8-bit bytes: treated as undeclared.
UNDECLARED = frozenset({"", "unknown-8bit", "x-unknown", "us-ascii", "ascii", "none", "default"})

# What detection may answer: charsets mail is written in. Left open, charset-normalizer picks DOS
# code pages for short Western text (cp775 for French).
DETECTABLE = [
    "cp1252", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "iso8859_5", "cp1253",
    "iso8859_7", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874", "shift_jis",
    "euc_jp", "iso2022_jp", "euc_kr", "cp949", "big5hkscs", "gb18030",
]  # fmt: skip

# "strict" keeps <div> and <blockquote> flush left; the default profile indents them.
_HTML_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_images=False)
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BLANK_RUN = re.compile(r"\n{3,}")


def codec_for(label: str | None) -> str | None:
    """Return the Python codec to decode a declared charset with, or None when undeclared."""
    name = (label or "").strip().strip('"').lower()
    if name in UNDECLARED:
        return None
    name = SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # unknown, or not even a name ("utf\x00")
        return None


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Decode text bytes: UTF-8 first, then the declared charset's superset, then detection.

    Undeclared 8-bit text goes UTF-8, gb18030, detection (charset-normalizer), replacement.
    Pure ASCII is decoded with the declared codec so 7-bit encodings (ISO-2022-JP, HZ) still work.
    """
    codec = codec_for(label)
    if data.isascii():
        return _decode_strict(data, codec or "ascii") or data.decode("ascii")
    for candidate in ("utf-8", codec or "gb18030"):
        text = _decode_strict(data, candidate)
        # gb18030 maps most byte pairs somewhere; a guess that lands in the Private Use Area
        # (Latin-1 "Grüße" → "Gr\ue3eae") is not Chinese text.
        if text is not None and (codec or not _PRIVATE_USE.search(text)):
            return text
    best = from_bytes(data, cp_isolation=DETECTABLE).best()
    if best is not None:
        return str(best)
    return data.decode(codec or "utf-8", errors="replace")


def _decode_strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def unfold(value: str) -> str:
    """Undo RFC 5322 folding (CRLF or LF followed by white space)."""
    return _FOLD.sub("", value)


def recover_8bit(value: str) -> str:
    """Decode raw 8-bit header bytes, which the parser keeps as surrogate escapes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return decode_bytes(value.encode("ascii", "surrogateescape"))
    return value


def decode_header_value(value: str) -> str:
    """Decode a raw header value: unfold, recover 8-bit bytes, join RFC 2047 encoded words.

    The legacy `decode_header` joins adjacent words' bytes before decoding, so a multibyte
    character split across two encoded words survives (protocols 4.2).
    """
    text = recover_8bit(unfold(value))
    if "=?" not in text:
        return text.strip()
    try:
        parts = decode_header(text)
    except HeaderParseError:
        return text.strip()
    return "".join(_decode_part(data, charset) for data, charset in parts).strip()


def _decode_part(data: bytes | str, charset: str | None) -> str:
    if isinstance(data, str):
        return data
    if charset is None:
        # decode_header encodes the unencoded stretches with raw-unicode-escape.
        return data.decode("raw-unicode-escape")
    return decode_bytes(data, charset)


class RawHeaders:
    """A message's headers read from `raw_items()`, decoded by `decode_header_value`."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._raw: dict[str, list[str]] = {}
        for name, value in items:
            self._raw.setdefault(name.lower(), []).append(str(value))

    def __bool__(self) -> bool:
        return bool(self._raw)

    def raw(self, name: str) -> str | None:
        """The first value of a header, unfolded, 8-bit bytes decoded, encoded words left as is."""
        values = self._raw.get(name.lower())
        return recover_8bit(unfold(values[0])).strip() if values else None

    def text(self, name: str) -> str | None:
        """The first decoded value of a header, or None."""
        values = self._raw.get(name.lower())
        return decode_header_value(values[0]) if values else None

    def addresses(self, name: str) -> list[tuple[str | None, str]]:
        """Every (display name, lower-cased address) in the address headers of that name."""
        values = [recover_8bit(unfold(value)) for value in self._raw.get(name.lower(), [])]
        found = []
        for display, address in getaddresses(values):
            if address:
                found.append((decode_header_value(display) or None, address.strip().lower()))
        return found


def part_param(part: email.message.Message, param: str, header: str) -> str | None:
    """Read a MIME parameter from the raw header: RFC 2231 and quoted encoded words decoded.

    A compat32 `Message` parses the raw value so we pick the charset, not the stdlib's
    gb2312 codec (which drops GBK-only characters).
    """
    raw = next((str(v) for k, v in part.raw_items() if k.lower() == header), None)
    if raw is None:
        return None
    holder = email.message.Message()
    holder[header] = recover_8bit(unfold(raw))
    value = holder.get_param(param, header=header)
    if isinstance(value, tuple):
        charset, _language, text = value
        try:
            value = decode_bytes(text.encode("latin-1"), charset or None)
        except UnicodeEncodeError:  # raw UTF-8 in an RFC 2231 value, already recovered
            value = text
    if not value:
        return None
    return decode_header_value(value) if "=?" in value else value.strip()


def unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of `format=flowed` text (RFC 3676 4.2, 4.4)."""
    lines: list[str] = []
    pending = ""
    for line in text.split("\n"):
        line = line[1:] if line.startswith(" ") else line  # undo space-stuffing
        if line.endswith(" ") and line != "-- ":
            pending += line[:-1] if delsp else line
        else:
            lines.append(pending + line)
            pending = ""
    return "\n".join([*lines, pending] if pending else lines)


def html_to_text(html: str) -> str:
    """Render HTML as readable plain text (inscriptis keeps table layout)."""
    text = get_text(html, _HTML_CONFIG)
    lines = [line.rstrip() for line in text.replace("\xa0", " ").splitlines()]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")
