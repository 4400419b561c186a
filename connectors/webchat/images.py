"""Visitor images: the type told by the bytes, the content-addressed store, attachment ids.

The declared type of an upload is the browser's guess from the file name; only the magic bytes
say what a file is, and only the four image types a browser shows safely are taken. Bytes live
where the email connector keeps attachments (`{data_dir}/attachments/ab/abcdef…`, storage key
`sha256:<digest>`), so the agents' attachment route serves them too. An attachment id is signed
and names its owner, so a visitor can neither forge one nor send or see another visitor's image.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadData, URLSafeSerializer

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def sniff(data: bytes) -> str | None:
    """The image type of these bytes by their signature, or None if not one of IMAGE_TYPES."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def store(root: Path, data: bytes) -> str:
    """Keep the bytes under their digest (idempotent, atomic); return the storage key."""
    digest = hashlib.sha256(data).hexdigest()
    path = root / digest[:2] / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{digest}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(data)
        os.replace(partial, path)
    return f"sha256:{digest}"


@dataclass(frozen=True)
class Upload:
    """An image a visitor uploaded: where its bytes are, what it is, and whose it is."""

    storage_key: str
    content_type: str
    size: int
    owner: str
    filename: str | None = None


class AttachmentIds:
    """Signs uploads into opaque attachment ids and reads them back."""

    def __init__(self, keys: list[bytes], connector: str) -> None:
        self.serializer = URLSafeSerializer(keys, salt=f"omnidesk.webchat.file:{connector}")

    def issue(self, upload: Upload) -> str:
        payload = [upload.storage_key, upload.content_type, upload.size, upload.owner]
        return str(self.serializer.dumps([*payload, upload.filename]))

    def read(self, attachment_id: str | None) -> Upload | None:
        if not attachment_id or len(attachment_id) > 1024:
            return None
        try:
            key, content_type, size, owner, filename = self.serializer.loads(attachment_id)
        except (BadData, ValueError, TypeError):
            return None
        if content_type not in IMAGE_TYPES:
            return None
        return Upload(str(key), str(content_type), int(size), str(owner), filename)


def safe_filename(name: str | None, content_type: str) -> str:
    """A plain file name for an upload (the visitor's name is kept only if harmless)."""
    base = Path(name or "").name
    keep = "".join(ch for ch in base if ch.isalnum() or ch in "._- ")[:80].strip(" .")
    return keep or f"image.{EXTENSIONS[content_type]}"
