"""MMS media and call recordings, fetched from Twilio with the account's credentials.

MediaUrl{N} (protocols 1.1) and RecordingUrl (1.9) point at api.twilio.com under our account;
with HTTP auth enforced on media, both answer 401 without `account_sid:auth_token`, and a
fetch with them is redirected to a short-lived URL on Twilio's media host. The credentials
go to the configured API host only: a URL naming another host or account is refused, and
httpx drops the Authorization header when the redirect leaves that host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from connectors.twilio.config import TwilioConfig
from omnidesk.errors import MediaUnavailable, TransientError
from omnidesk.inbound import Attachment
from omnidesk.services.media import read_capped

API_HOST = "api.twilio.com"
API_VERSION = "2010-04-01"


def media_url(config: TwilioConfig, attachment: Attachment) -> str:
    """Where to fetch the media: its path on our API host, if it is our account's."""
    parts = urlsplit(attachment.url or "")
    hosts = {API_HOST, urlsplit(config.api_base_url).netloc}
    prefix = f"/{API_VERSION}/Accounts/{config.account_sid}/"
    if parts.netloc not in hosts or not parts.path.startswith(prefix) or ".." in parts.path:
        raise MediaUnavailable("media_not_found", "the media URL is not one of this account's")
    return config.api_base_url.rstrip("/") + parts.path


def fetch(
    http: httpx.Client, config: TwilioConfig, attachment: Attachment, max_bytes: int
) -> tuple[bytes, str]:
    """See `MediaConnector.fetch_media`."""
    auth = (config.account_sid, config.auth_token.get_secret_value())
    try:
        with http.stream("GET", media_url(config, attachment), auth=auth) as response:
            _check(response)
            data = read_capped(response, max_bytes)
            return data, response.headers.get("content-type", attachment.content_type)
    except httpx.HTTPError as exc:
        raise TransientError(f"Twilio unreachable: {exc!r}") from exc


def _check(response: httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise MediaUnavailable("media_refused", "Twilio refused the account's credentials")
    if response.status_code == 404:
        raise MediaUnavailable("media_not_found", "Twilio no longer has this media (deleted?)")
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"Twilio answered {response.status_code}")
    if not response.is_success:
        raise MediaUnavailable("media_not_found", f"Twilio answered {response.status_code}")
