"""Pictures and voice of a private message, fetched from Weibo's media service by fid.

A push names its media by `tovfid` (protocols 3.2); inbound.py records it as the URL
`https://upload.api.weibo.com/2/mss/msget?fid=…`. Fetching it needs the account's access token
(the endpoint and its errors are (unconfirmed)); the token goes in the OAuth2 header, never in
a URL, and only to the configured media host (`WeiboConfig.media_api_url`).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from connectors.weibo import outbound
from connectors.weibo.config import WeiboConfig
from omnidesk.errors import MediaUnavailable, TransientError
from omnidesk.inbound import Attachment
from omnidesk.services.media import read_capped

MEDIA_PATH = "/2/mss/msget"


def fid_of(attachment: Attachment) -> str:
    """The media's fid, from the URL inbound.py recorded."""
    values = parse_qs(urlsplit(attachment.url or "").query).get("fid") or [""]
    if not values[0].isdigit():
        raise MediaUnavailable("media_not_found", "the message carries no Weibo media id")
    return values[0]


def fetch(
    http: httpx.Client, config: WeiboConfig, attachment: Attachment, max_bytes: int
) -> tuple[bytes, str]:
    """See `MediaConnector.fetch_media`."""
    url = config.media_api_url + MEDIA_PATH
    headers = {"Authorization": f"OAuth2 {config.access_token.get_secret_value()}"}
    try:
        with http.stream("GET", url, params={"fid": fid_of(attachment)}, headers=headers) as got:
            data = read_capped(got, max_bytes)
            status, content_type = got.status_code, got.headers.get("content-type", "")
    except httpx.HTTPError as exc:
        raise TransientError(f"Weibo unreachable ({type(exc).__name__})") from exc
    if status == 200 and not content_type.startswith("application/json"):
        return data, content_type or attachment.content_type
    raise _refusal(status, data)


def _refusal(status: int, body: bytes) -> MediaUnavailable | TransientError:
    error = outbound.classify_error(status, body)
    if isinstance(error, TransientError):
        return error
    if error.code in {str(code) for code in outbound.TOKEN_REASONS}:
        return MediaUnavailable("media_refused", error.reason)
    return MediaUnavailable("media_not_found", f"Weibo has no such media ({error.reason})")
