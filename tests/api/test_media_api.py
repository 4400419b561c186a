"""Media the provider keeps reaches the agent through the API: a WeChat picture, an MMS picture,
a call recording and a Weibo picture are fetched with the connector's credentials from the
wire-level fakes (by the worker right after ingest, or on first view when nobody did), kept by
digest, and served from our own URL; a media id the provider does not know gives a clear 404,
never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from fakes.twilio_media import silence_wav
from fakes.weibo import FakeWeibo
from omnidesk.db import unit_of_work
from omnidesk.models import Direction, Message, Request
from tests.factories import (
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    WECHAT_OPENID,
    twilio_toml,
    wait_until,
    wechat_toml,
)

API = "/api/v1"
PICTURE = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 30
WEIBO_SECRET, WEIBO_TOKEN, WEIBO_UID = "media-app-secret", "2.00media-access-token", 1902538057
CUSTOMER = "+8613800138000"


@pytest.fixture
def fake_weibo() -> Iterator[FakeWeibo]:
    with FakeWeibo(WEIBO_SECRET, {WEIBO_TOKEN: WEIBO_UID}) as fake:
        yield fake


@pytest.fixture
def media_desk(configure, fake_twilio, fake_wechat, fake_weibo, wechat_env, monkeypatch):
    """SMS/voice, WeChat and Weibo connectors at their fakes (written before the app starts)."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    weibo = f"""
[[connectors]]
name = "tp-weibo"
channel = "weibo"
app_key = "1234567890"
app_secret = "{WEIBO_SECRET}"
access_token = "{WEIBO_TOKEN}"
api_base_url = "{fake_weibo.base_url}"
"""
    return configure(twilio_toml(fake_twilio.base_url) + wechat_toml(fake_wechat.base_url) + weibo)


@pytest.fixture
def desk(media_desk, worker, client, people):
    return client, people


def webhook(settings, name: str, path: str = "") -> str:
    return f"{settings.public_url}/webhooks/{name}{path}"


def message_on(settings, channel: str) -> Message:
    """The one inbound message of a channel, once its request exists; its request is put in the
    agent's team (orders), so the agent may see it."""

    def find() -> Message | None:
        with unit_of_work(settings) as session:
            stmt = select(Message).where(
                Message.direction == Direction.INBOUND, Message.channel == channel
            )
            found = session.exec(stmt).first()
            if found is None or found.request_id is None:
                return None
            request = session.get(Request, found.request_id)
            request.team = "orders"
            session.add(request)
            session.expunge(found)
            return found

    return wait_until(find)


def kept(settings, message: Message, index: int = 0) -> dict:
    """The attachment once the worker has kept its bytes."""

    def stored() -> dict | None:
        with unit_of_work(settings) as session:
            meta = session.get(Message, message.id).attachments[index]
        return meta if meta.get("storage_key") else None

    return wait_until(stored)


def attachment(client, people, message: Message, index: int = 0, role: str = "agent"):
    url = f"{API}/messages/{message.id}/attachments/{index}"
    return client.get(url, headers=people[role].auth)


def media_gets(fake_wechat) -> list[dict]:
    return [r for r in fake_wechat.requests if r["path"] == "/cgi-bin/media/get"]


def test_a_wechat_picture_reaches_the_agent_through_the_api(desk, settings, fake_wechat):
    client, people = desk
    fake_wechat.push_image(
        webhook(settings, "tp-wechat"), WECHAT_OPENID, "http://mmbiz.qpic.cn/x", content=PICTURE
    )
    message = message_on(settings, "wechat")
    stored = kept(settings, message)  # by the worker, right after ingest

    first = attachment(client, people, message)
    again = attachment(client, people, message)

    assert first.status_code == 200, first.text
    assert first.content == PICTURE
    assert first.headers["content-type"] == "image/jpeg"
    assert again.content == PICTURE
    assert len(media_gets(fake_wechat)) == 1  # fetched once, then served from our store
    assert fake_wechat.valid_token(media_gets(fake_wechat)[0]["query"]["access_token"])
    detail = client.get(f"{API}/requests/{message.request_id}", headers=people["agent"].auth)
    assert "access_token" not in detail.text
    assert stored["storage_key"].startswith("sha256:")
    assert stored["size"] == len(PICTURE)


def test_a_picture_kept_once_outlives_wechats_three_days(desk, settings, fake_wechat):
    client, people = desk
    fake_wechat.push_image(
        webhook(settings, "tp-wechat"), WECHAT_OPENID, "http://mmbiz.qpic.cn/x", content=PICTURE
    )
    message = message_on(settings, "wechat")
    kept(settings, message)  # nobody looked yet

    fake_wechat.advance(3 * 86400 + 60)

    assert attachment(client, people, message).content == PICTURE


def test_a_wechat_media_id_wechat_does_not_know_is_a_clear_404(desk, settings, fake_wechat):
    client, people = desk
    fake_wechat.push_image(
        webhook(settings, "tp-wechat"), WECHAT_OPENID, "http://mmbiz.qpic.cn/x", media_id="bogus"
    )
    message = message_on(settings, "wechat")

    response = attachment(client, people, message)

    assert response.status_code == 404
    assert response.json()["errors"] == {"base": "media_expired"}
    assert "40007" in response.json()["detail"]
    assert {r["errcode"] for r in media_gets(fake_wechat)} == {40007}


def test_a_wechat_video_is_fetched_from_its_video_url(desk, settings, fake_wechat):
    client, people = desk
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(200)
    fake_wechat.push_video(webhook(settings, "tp-wechat"), WECHAT_OPENID, video)
    message = message_on(settings, "wechat")
    kept(settings, message)

    response = attachment(client, people, message)

    assert response.status_code == 200
    assert (response.content, response.headers["content-type"]) == (video, "video/mp4")


def test_an_mms_picture_reaches_the_agent_through_the_api(desk, settings, fake_twilio):
    client, people = desk
    url = fake_twilio.media.add_media(TWILIO_SID, PNG, "image/png")
    fake_twilio.deliver_sms(webhook(settings, "tp-sms", "/sms"), CUSTOMER, TWILIO_NUMBER, "看图",
                            media=[(url, "image/png")])  # fmt: skip
    message = message_on(settings, "twilio")
    kept(settings, message)

    response = attachment(client, people, message)

    assert response.status_code == 200, response.text
    assert (response.content, response.headers["content-type"]) == (PNG, "image/png")
    [fetched] = [r for r in fake_twilio.requests if "/Media/" in r["path"]]
    assert fetched["status"] == 307  # authenticated as the account, then sent to the media host


def test_an_mms_media_url_of_another_host_is_refused_without_sending_credentials(
    desk, settings, fake_twilio
):
    client, people = desk
    foreign = f"https://media.example.net/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM1/Media/ME1"
    fake_twilio.deliver_sms(webhook(settings, "tp-sms", "/sms"), CUSTOMER, TWILIO_NUMBER, "看图",
                            media=[(foreign, "image/png")])  # fmt: skip
    message = message_on(settings, "twilio")

    response = attachment(client, people, message)

    assert response.status_code == 404
    assert response.json()["errors"] == {"base": "media_not_found"}
    assert [r for r in fake_twilio.requests if "/Media/" in r["path"]] == []


def test_a_voicemail_recording_reaches_the_agent(desk, settings, fake_twilio):
    client, people = desk
    call = fake_twilio.call(
        webhook(settings, "tp-sms", "/voice"), CUSTOMER, TWILIO_NUMBER, record_seconds=5
    )
    message = message_on(settings, "twilio")
    kept(settings, message)

    response = attachment(client, people, message)

    assert call.recording_sid
    assert message.attachments[0]["url"].endswith(call.recording_sid)
    assert response.status_code == 200, response.text
    assert response.content == silence_wav(5)  # what the caller left: 5 s
    assert response.headers["content-type"] == "audio/wav"


def test_a_weibo_picture_reaches_the_agent(desk, settings, fake_weibo):
    client, people = desk
    fake_weibo.push_message(webhook(settings, "tp-weibo"), "image", 2489518277, content=PICTURE)
    message = message_on(settings, "weibo")
    kept(settings, message)

    response = attachment(client, people, message)

    assert response.status_code == 200, response.text
    assert response.content == PICTURE
    [fetched] = [r for r in fake_weibo.requests if r["path"] == "/2/mss/msget"]
    assert "access_token" not in fetched["query"]  # the token went in the OAuth2 header


def test_an_agent_of_another_team_cannot_fetch_the_media(desk, settings, fake_wechat):
    client, people = desk
    fake_wechat.push_image(
        webhook(settings, "tp-wechat"), WECHAT_OPENID, "http://mmbiz.qpic.cn/x", content=PICTURE
    )
    message = message_on(settings, "wechat")

    response = attachment(client, people, message, role="outsider")

    assert response.status_code == 403
    assert PICTURE not in response.content


@pytest.fixture
def lazy_desk(media_desk, client, people):
    """The desk without a worker: nothing is ingested or fetched ahead of a view."""
    return client, people


def test_media_nobody_fetched_yet_is_fetched_on_first_view(lazy_desk, settings, fake_wechat):
    # Given a picture stored but not ingested (no worker runs): only staff may see it yet
    client, people = lazy_desk
    fake_wechat.push_image(
        webhook(settings, "tp-wechat"), WECHAT_OPENID, "http://mmbiz.qpic.cn/x", content=PICTURE
    )
    with unit_of_work(settings) as session:
        message = session.exec(select(Message).where(Message.channel == "wechat")).one()
        session.expunge(message)
    assert media_gets(fake_wechat) == []

    # When a supervisor opens it, twice
    first = attachment(client, people, message, role="supervisor")
    again = attachment(client, people, message, role="supervisor")

    # Then it was fetched once, with a valid token, and kept
    assert (first.status_code, first.content, again.content) == (200, PICTURE, PICTURE)
    assert len(media_gets(fake_wechat)) == 1
    assert kept(settings, message)["size"] == len(PICTURE)
