"""Temporary media of a push (image, voice, video), fetched through WeChat's media API.

`GET /cgi-bin/media/get?access_token=TOKEN&media_id=MEDIA_ID` answers the file itself, or, for
a video, JSON `{"video_url": …}` to download it from; errors come as JSON with an errcode
(40007: invalid media_id, which is also what an id older than its 3 days gets). The token goes
in the query string, so the URL never leaves the server (omnidesk.services.media serves the
bytes); a token WeChat rejects is refreshed once, as for sending.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from connectors.wechat import outbound
from omnidesk.errors import MediaUnavailable, TransientError
from omnidesk.inbound import Attachment
from omnidesk.services.media import read_capped

MEDIA_GET_PATH = "/cgi-bin/media/get"
INVALID_MEDIA_ID = 40007
JSON_TYPES = ("application/json", "text/plain")

# (bytes, content type) of one GET; JSON answers come back as a dict instead.
Answer = tuple[bytes, str] | dict[str, Any]


def media_id(attachment: Attachment) -> str:
    """The MediaId the push carried (kept in `content_id`)."""
    if not attachment.content_id:
        raise MediaUnavailable("media_not_found", "the message carries no WeChat media id")
    return attachment.content_id


def fetch(
    http: httpx.Client,
    base_url: str,
    token: Callable[[str | None], str],
    attachment: Attachment,
    max_bytes: int,
) -> tuple[bytes, str]:
    """See `MediaConnector.fetch_media`. `token(None)` gives the shared access token and
    `token(rejected)` a fresh one after WeChat rejected `rejected`."""
    url = f"{base_url.rstrip('/')}{MEDIA_GET_PATH}"
    current = token(None)
    answer = _get(http, url, {"access_token": current, "media_id": media_id(attachment)}, max_bytes)
    if isinstance(answer, dict) and outbound.errcode_of(answer) in outbound.TOKEN_ERRORS:
        fresh = token(current)
        answer = _get(
            http, url, {"access_token": fresh, "media_id": media_id(attachment)}, max_bytes
        )
    if isinstance(answer, dict) and isinstance(answer.get("video_url"), str):
        answer = _get(http, answer["video_url"], {}, max_bytes)
    if isinstance(answer, dict):
        raise _refusal(answer)
    return answer


def _get(http: httpx.Client, url: str, params: dict[str, str], max_bytes: int) -> Answer:
    try:
        with http.stream("GET", url, params=params) as response:
            if response.status_code != 200:
                raise TransientError(f"WeChat answered HTTP {response.status_code}")
            data = read_capped(response, max_bytes)
            content_type = response.headers.get("content-type", "application/octet-stream")
    except httpx.HTTPError as exc:
        raise TransientError(f"WeChat unreachable: {exc!r}") from exc
    if content_type.split(";")[0].strip().lower() in JSON_TYPES and data.lstrip()[:1] == b"{":
        try:
            return dict(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as exc:
            raise TransientError("WeChat answered broken JSON") from exc
    return data, content_type


def _refusal(answer: dict[str, Any]) -> MediaUnavailable | TransientError:
    code, message = outbound.errcode_of(answer), str(answer.get("errmsg", ""))
    if code == INVALID_MEDIA_ID:
        reason = "WeChat does not know this media id (40007); WeChat keeps media 3 days"
        return MediaUnavailable("media_expired", reason)
    if code in outbound.TRANSIENT_CODES:
        return TransientError(f"WeChat is busy ({code}: {message})", str(code))
    if code in outbound.TOKEN_ERRORS:
        reason = f"WeChat rejected a freshly fetched access token ({code}: {message})"
        return MediaUnavailable("media_refused", reason)
    return MediaUnavailable("media_refused", f"WeChat refused the media ({code}: {message})")
