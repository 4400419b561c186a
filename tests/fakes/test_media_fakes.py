"""The fakes serve media as the providers do, and refuse what they refuse: Twilio's media and
recordings need Basic auth as the owning account and redirect to a one-use media-host URL;
WeChat's media API wants a valid access token and knows a media id for 3 days (40007 after);
Weibo's wants the account's token and a known fid."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from fakes.twilio import FakeTwilio
from fakes.twilio_media import silence_wav
from fakes.wechat import FakeWeChat
from fakes.weibo import FakeWeibo

SID, TOKEN = "AC" + "1" * 32, "twilio-media-token"
OTHER_SID, OTHER_TOKEN = "AC" + "2" * 32, "other-account-token"
APP_ID, SECRET = "wx0123456789abcdef", "0123456789abcdef0123456789abcdef"
WEIBO_TOKEN = "2.00weibo-media-token"
PICTURE = b"\xff\xd8\xff" + bytes(range(256)) * 4


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    accounts = {SID: TOKEN, OTHER_SID: OTHER_TOKEN}
    with FakeTwilio(accounts=accounts, numbers={SID: ["+15005550006"]}) as fake:
        yield fake


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    with FakeWeChat(APP_ID, SECRET, token="fakeToken2024") as fake:
        yield fake


@pytest.fixture
def weibo() -> Iterator[FakeWeibo]:
    with FakeWeibo("weibo-secret", {WEIBO_TOKEN: 1902538057}) as fake:
        yield fake


def local(fake: FakeTwilio, public_url: str) -> str:
    """The fake's address of a URL Twilio hands out on api.twilio.com."""
    return fake.base_url + urlsplit(public_url).path


def test_twilio_media_needs_the_owning_accounts_basic_auth(twilio: FakeTwilio) -> None:
    url = local(twilio, twilio.media.add_media(SID, PICTURE, "image/jpeg"))

    anonymous = httpx.get(url)
    wrong = httpx.get(url, auth=(SID, "not-the-token"))
    other = httpx.get(url, auth=(OTHER_SID, OTHER_TOKEN))

    assert [r.status_code for r in (anonymous, wrong, other)] == [401, 401, 401]
    assert anonymous.json()["code"] == 20003


def test_twilio_media_redirects_once_to_the_media_host(twilio: FakeTwilio) -> None:
    url = local(twilio, twilio.media.add_media(SID, PICTURE, "image/jpeg"))

    redirect = httpx.get(url, auth=(SID, TOKEN))
    fetched = httpx.get(redirect.headers["location"])
    reused = httpx.get(redirect.headers["location"])

    assert redirect.status_code == 307
    assert (fetched.content, fetched.headers["content-type"]) == (PICTURE, "image/jpeg")
    assert reused.status_code == 403


def test_twilio_unknown_media_is_404_20404(twilio: FakeTwilio) -> None:
    url = f"{twilio.base_url}/2010-04-01/Accounts/{SID}/Messages/MM{'0' * 32}/Media/ME{'0' * 32}"

    response = httpx.get(url, auth=(SID, TOKEN))

    assert (response.status_code, response.json()["code"]) == (404, 20404)


@pytest.mark.parametrize(
    ("suffix", "content_type"),
    [("", "audio/x-wav"), (".wav", "audio/x-wav"), (".mp3", "audio/mpeg")],
)
def test_twilio_recordings_are_served_with_auth_in_each_format(
    twilio: FakeTwilio, suffix: str, content_type: str
) -> None:
    url = local(twilio, twilio.media.add_recording(SID, "RE" + "a" * 32)) + suffix

    refused = httpx.get(url)
    served = httpx.get(url, auth=(SID, TOKEN), follow_redirects=True)

    assert refused.status_code == 401
    assert (served.content, served.headers["content-type"]) == (silence_wav(), content_type)


def wechat_media(fake: FakeWeChat, token: str | None, media_id: str) -> httpx.Response:
    params = {"media_id": media_id} | ({"access_token": token} if token is not None else {})
    return httpx.get(f"{fake.base_url}/cgi-bin/media/get", params=params)


def wechat_token(fake: FakeWeChat) -> str:
    body = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    return str(
        httpx.post(f"{fake.base_url}/cgi-bin/stable_token", json=body).json()["access_token"]
    )


def test_wechat_media_is_served_for_a_valid_token(wechat: FakeWeChat) -> None:
    media_id = wechat.add_media(PICTURE, "image/jpeg")

    response = wechat_media(wechat, wechat_token(wechat), media_id)

    assert (response.content, response.headers["content-type"]) == (PICTURE, "image/jpeg")
    assert "attachment" in response.headers["content-disposition"]


@pytest.mark.parametrize(
    ("token", "errcode"), [(None, 41001), ("forged-token", 40001)], ids=["missing", "unknown"]
)
def test_wechat_media_refuses_a_bad_token(wechat: FakeWeChat, token: str | None, errcode: int):
    media_id = wechat.add_media(PICTURE, "image/jpeg")

    response = wechat_media(wechat, token, media_id)

    assert (response.status_code, response.json()["errcode"]) == (200, errcode)


def test_wechat_media_id_unknown_or_older_than_three_days_is_40007(wechat: FakeWeChat) -> None:
    media_id = wechat.add_media(PICTURE, "image/jpeg")
    token = wechat_token(wechat)

    unknown = wechat_media(wechat, token, "no-such-media")
    wechat.advance(3 * 86400)
    expired = wechat_media(wechat, wechat_token(wechat), media_id)

    assert unknown.json()["errcode"] == 40007
    assert unknown.json()["errmsg"].startswith("invalid media_id")
    assert expired.json()["errcode"] == 40007


def test_wechat_video_answers_a_video_url(wechat: FakeWeChat) -> None:
    media_id = wechat.add_media(b"video-bytes", "video/mp4")

    answer = wechat_media(wechat, wechat_token(wechat), media_id).json()

    assert httpx.get(answer["video_url"]).content == b"video-bytes"


def test_weibo_media_needs_the_token_and_a_known_fid(weibo: FakeWeibo) -> None:
    fid = weibo.add_media(PICTURE, "image/jpeg")
    url = f"{weibo.base_url}/2/mss/msget"
    auth = {"Authorization": f"OAuth2 {WEIBO_TOKEN}"}

    served = httpx.get(url, params={"fid": fid}, headers=auth)
    anonymous = httpx.get(url, params={"fid": fid})
    forged = httpx.get(url, params={"fid": fid}, headers={"Authorization": "OAuth2 forged"})
    unknown = httpx.get(url, params={"fid": "123"}, headers=auth)

    assert served.content == PICTURE
    assert anonymous.json()["error_code"] == "21301"
    assert forged.json()["error_code"] == "21332"
    assert unknown.json()["error_code"] == "10017"
