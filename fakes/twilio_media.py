"""The media a fake Twilio account holds: MMS media and call recordings (§1.1, §1.9).

Served the way api.twilio.com serves them with HTTP auth enforced on media: the resource URL
needs Basic auth as the owning account (401, code 20003, otherwise; 404, code 20404, for an
unknown sid), and answers 307 to a short-lived URL on a media host, which needs no auth. A
recording's URL serves WAV, `.wav` too, `.mp3` MP3.
"""

from __future__ import annotations

import re
import secrets
import struct
import threading
from dataclasses import dataclass

API_VERSION = "2010-04-01"
PUBLIC_BASE = "https://api.twilio.com"
MEDIA_PATH = re.compile(r"^/Messages/(MM[0-9a-f]{32})/Media/(ME[0-9a-f]{32})$")
RECORDING_PATH = re.compile(r"^/Recordings/(RE[0-9a-f]{32})(\.wav|\.mp3)?$")
CDN_PREFIX = "/cdn/"
RECORDING_TYPES = {None: "audio/x-wav", ".wav": "audio/x-wav", ".mp3": "audio/mpeg"}


@dataclass(frozen=True)
class Media:
    account: str
    content: bytes
    content_type: str


def silence_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 8-bit WAV of silence: what a voicemail recording is, byte for byte a real file."""
    frames = int(seconds * rate)
    header = b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8) + b"data"
    return header + struct.pack("<I", frames) + b"\x80" * frames


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class MediaStore:
    """Media by (account, path); `issue` hands out the one-use CDN URLs the API redirects to."""

    def __init__(self) -> None:
        self._items: dict[str, Media] = {}
        self._cdn: dict[str, Media] = {}
        self._lock = threading.Lock()

    def add_media(self, account: str, content: bytes, content_type: str) -> str:
        """Keep an MMS picture (or other medium); return its MediaUrl as Twilio sends it."""
        path = f"/Messages/{_sid('MM')}/Media/{_sid('ME')}"
        with self._lock:
            self._items[f"{account}{path}"] = Media(account, content, content_type)
        return f"{PUBLIC_BASE}/{API_VERSION}/Accounts/{account}{path}"

    def add_recording(self, account: str, sid: str, content: bytes | None = None) -> str:
        """Keep a call recording under its RecordingSid; return its RecordingUrl."""
        path = f"/Recordings/{sid}"
        with self._lock:
            self._items[f"{account}{path}"] = Media(account, content or silence_wav(), "audio/wav")
        return f"{PUBLIC_BASE}/{API_VERSION}/Accounts/{account}{path}"

    def owns(self, subpath: str) -> bool:
        """Whether an account sub-path names a media or recording resource."""
        return bool(MEDIA_PATH.match(subpath) or RECORDING_PATH.match(subpath))

    def find(self, account: str, subpath: str) -> Media | None:
        """The medium at this account path (a recording in the asked format), or None."""
        recording = RECORDING_PATH.match(subpath)
        key = f"{account}/Recordings/{recording[1]}" if recording else f"{account}{subpath}"
        with self._lock:
            found = self._items.get(key)
        if found is None or recording is None:
            return found
        return Media(found.account, found.content, RECORDING_TYPES[recording[2]])

    def issue(self, media: Media) -> str:
        """A short-lived media-host path for `media` (used once)."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._cdn[token] = media
        return f"{CDN_PREFIX}{token}"

    def redeem(self, path: str) -> Media | None:
        with self._lock:
            return self._cdn.pop(path.removeprefix(CDN_PREFIX), None)
