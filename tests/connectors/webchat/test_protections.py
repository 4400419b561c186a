"""Protections and static routes: rate limits, images told by their bytes, script, demo page."""

from __future__ import annotations

import io

import pytest

from omnidesk.models import Direction, Message
from tests.connectors.webchat.conftest import SHOP, rows, start_session

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 32


def upload(api, token: str, data: bytes, name: str = "photo.png", declared: str = "image/png"):
    files = {"file": (name, io.BytesIO(data), declared)}
    return api.post("/webchat/tp-web/upload", files=files, data={"visitor_token": token})


@pytest.mark.parametrize("chat_extra", ["visitor_messages_per_minute = 2"])
def test_a_visitor_over_the_rate_limit_is_told_to_wait(api, chat_desk, widgets) -> None:
    widget = widgets(start_session(api)["visitor_token"])
    for text in ("一", "二"):
        sent = widget.say(text)
        widget.wait_for(lambda f, c=sent: f["type"] == "ack" and f["client_id"] == c)
    client_id = widget.say("三")
    error = widget.wait_for(lambda f: f["type"] == "error")
    assert (error["code"], error["client_id"]) == ("rate_limited", client_id)
    assert 1 <= error["retry_after"] <= 61
    assert len(rows(chat_desk, Message, Message.direction == Direction.INBOUND)) == 2


@pytest.mark.parametrize("chat_extra", ["ip_sessions_per_minute = 3"])
def test_sessions_from_one_address_are_limited(api) -> None:
    codes = [api.post("/webchat/tp-web/session", json={}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_an_image_is_taken_by_its_bytes_and_shown_to_its_visitor_only(
    api, chat_desk, widgets
) -> None:
    # Given a visitor uploads a PNG
    session = start_session(api)
    response = upload(api, session["visitor_token"], PNG)
    assert response.status_code == 200, response.text
    image = response.json()
    assert (image["content_type"], image["size"]) == ("image/png", len(PNG))

    # Then its URL serves it back to them, as an untrusted file, and to nobody else
    shown = api.get(image["url"])
    assert (shown.status_code, shown.content) == (200, PNG)
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["x-content-type-options"] == "nosniff"
    other = start_session(api)["visitor_token"]
    stranger = api.get(image["url"].split("?")[0], params={"token": other})
    assert stranger.status_code == 404

    # When they send it, the message carries the stored image (content-addressed)
    widget = widgets(session["visitor_token"])
    widget.say("", attachment_id=image["attachment_id"])
    widget.wait_for(lambda f: f["type"] == "ack")
    [message] = rows(chat_desk, Message, Message.direction == Direction.INBOUND)
    [meta] = message.attachments
    assert meta["storage_key"].startswith("sha256:")
    assert meta["content_type"] == "image/png"
    history = start_session(api, visitor_token=session["visitor_token"])["history"]
    assert history[0]["attachments"][0]["content_type"] == "image/png"

    # And another visitor cannot send that image as theirs
    thief = widgets(other)
    thief.say("", attachment_id=image["attachment_id"])
    assert thief.wait_for(lambda f: f["type"] == "error")["code"] == "bad_attachment"


def test_uploads_that_are_not_images_or_too_large_are_refused(api) -> None:
    token = start_session(api)["visitor_token"]
    script = upload(api, token, b"<svg onload=alert(1)>", "x.png", "image/png")
    assert script.status_code == 415
    assert "PNG, JPEG, GIF" in script.json()["detail"]
    assert upload(api, token, GIF, "a.gif", "image/gif").status_code == 200
    huge = upload(api, token, PNG + b"\x00" * (5 * 1024 * 1024))
    assert huge.status_code == 413
    assert upload(api, "forged", PNG).status_code == 401


def test_the_widget_script_is_served_with_caching_headers(api) -> None:
    api.headers.pop("Origin")
    script = api.get("/webchat/tp-web/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "application/javascript; charset=utf-8"
    etag = script.headers["etag"]
    again = api.get("/webchat/tp-web/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_the_demo_shop_page_embeds_the_widget_of_this_desk(api, chat_desk) -> None:
    page = api.get("/webchat/tp-web/demo", params={"lang": "en"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"{chat_desk.public_url}/webchat/tp-web/widget.js" in page.text
    assert '<html lang="en">' in page.text
    assert "{{" not in page.text
    injected = api.get("/webchat/tp-web/demo", params={"lang": '"><script>'})
    assert '<html lang="zh">' in injected.text


def test_the_shops_page_may_call_across_origins_and_others_may_not(api) -> None:
    allowed = api.options(
        "/webchat/tp-web/session",
        headers={"Origin": SHOP, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SHOP
    refused = api.options(
        "/webchat/tp-web/session",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in refused.headers


def test_an_unknown_chat_is_not_found(api) -> None:
    assert api.post("/webchat/nope/session", json={}).status_code == 404
