"""The widget's transport, from the outside: sessions, origins, the socket, stored once, resume."""

from __future__ import annotations

import uuid

from connectors.webchat.token import VisitorTokens
from omnidesk.models import Customer, Direction, Identity, Message, RawPayload
from tests.connectors.webchat.conftest import (
    SHOP,
    close_code,
    rows,
    start_session,
    user_hash,
)
from tests.factories import wait_until


def inbound(settings) -> list[Message]:
    return rows(settings, Message, Message.direction == Direction.INBOUND)


def test_a_session_gives_a_signed_token_and_the_same_visitor_comes_back(api, chat_desk) -> None:
    # When a new visitor opens the chat
    first = start_session(api, page_url=f"{SHOP}/p/earbuds", page_title="Earbuds")

    # Then they get a token, the socket's path, the bot, their limits and no history
    assert first["visitor_id"].startswith("visitor:")
    assert first["ws_url"] == "/webchat/tp-web/ws"
    assert (first["state"], first["history"], first["pre_chat_form"]) == ("bot", [], False)
    assert first["limits"]["max_message_chars"] == 4000
    assert first["limits"]["max_image_bytes"] == 5 * 1024 * 1024
    assert "image/png" in first["limits"]["image_types"]

    # And the same token later is the same visitor
    again = start_session(api, visitor_token=first["visitor_token"])
    assert again["visitor_id"] == first["visitor_id"]


def test_a_forged_or_foreign_token_starts_a_new_visitor(api) -> None:
    first = start_session(api)
    token = first["visitor_token"]
    payload, stamp, signature = token.split(".")
    forged = f"{payload}.{stamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    foreign = VisitorTokens([b"some other desk's key"], "tp-web", 365).issue(
        VisitorTokens([b"x"], "tp-web", 365).read(token) or _visitor()
    )
    for bad in (forged, foreign, "not-a-token"):
        fresh = start_session(api, visitor_token=bad)
        assert fresh["visitor_id"] != first["visitor_id"]


def _visitor():
    from connectors.webchat.token import Visitor

    return Visitor("someone-else")


def test_a_verified_shop_user_is_one_customer_on_every_device(
    api, chat_desk, widgets, worker
) -> None:
    # Given the shop's signed-in customer 42 chats on a phone
    phone = start_session(api, user_id="42", user_hash=user_hash("42"))
    assert phone["visitor_id"] == "user:42"
    widget = widgets(phone["visitor_token"])
    widget.say("你好")
    widget.wait_for(lambda f: f["type"] == "ack")

    # When they open the chat on a laptop (no token there yet)
    laptop = start_session(api, user_id="42", user_hash=user_hash("42"))

    # Then it is the same customer with the same history
    assert laptop["visitor_id"] == "user:42"
    assert [m["text"] for m in laptop["history"] if m["from"] == "visitor"] == ["你好"]
    wait_until(lambda: rows(chat_desk, Identity, Identity.kind == "webchat"))
    assert [i.address for i in rows(chat_desk, Identity, Identity.kind == "webchat")] == ["user:42"]


def test_a_wrong_user_hash_is_refused_and_nothing_is_stored(api, chat_desk) -> None:
    response = api.post(
        "/webchat/tp-web/session", json={"user_id": "42", "user_hash": user_hash("43")}
    )
    assert (response.status_code, response.json()) == (403, {"detail": "identity not verified"})
    assert rows(chat_desk, Identity) == []
    assert rows(chat_desk, Customer) == []


def test_an_anonymous_visitor_who_signs_in_becomes_the_shop_customer(
    api, chat_desk, widgets, worker
):
    # Given an anonymous visitor who wrote, and the shop's customer 7 known from before
    anonymous = start_session(api)
    widget = widgets(anonymous["visitor_token"])
    widget.say("你好")
    widget.wait_for(lambda f: f["type"] == "ack")
    wait_until(lambda: rows(chat_desk, Identity))

    # When they sign in on the shop and the page opens the chat with the proof
    signed = start_session(
        api, visitor_token=anonymous["visitor_token"], user_id="7", user_hash=user_hash("7")
    )

    # Then both chat identities belong to one customer
    assert signed["visitor_id"] == "user:7"
    owners = {i.address: i.customer_id for i in rows(chat_desk, Identity)}
    assert owners[anonymous["visitor_id"]] == owners["user:7"]


def test_a_foreign_origin_is_refused_over_http_and_on_the_socket(api, chat_desk) -> None:
    token = start_session(api)["visitor_token"]
    api.headers["Origin"] = "https://evil.example"

    response = api.post("/webchat/tp-web/session", json={})
    assert (response.status_code, response.json()) == (403, {"detail": "origin not allowed"})
    assert close_code(chat_desk, token, origin="https://evil.example") == 4403
    # The desk's own pages (the demo shop) are always allowed; a bad token is told apart.
    assert close_code(chat_desk, "forged", origin=chat_desk.public_url) == 4401
    assert close_code(chat_desk, None, origin=SHOP) == 4401


def test_a_message_sent_twice_is_stored_once_even_across_connections(
    api, chat_desk, widgets
) -> None:
    # Given a visitor whose message went out just as the connection dropped
    session = start_session(api, page_url=f"{SHOP}/p/earbuds", page_title="无线蓝牙耳机")
    client_id = str(uuid.uuid4())
    first = widgets(session["visitor_token"])
    first.say("我的订单1234567890到哪了", client_id)
    ack = first.wait_for(lambda f: f["type"] == "ack")
    first.say("我的订单1234567890到哪了", client_id)
    acks = [ack, first.wait_for(lambda f: f["type"] == "ack" and f is not ack)]
    first.close()

    # When the widget reconnects and sends it again
    second = widgets(session["visitor_token"])
    second.say("我的订单1234567890到哪了", client_id)
    acks.append(second.wait_for(lambda f: f["type"] == "ack"))

    # Then every ack names the same stored message, and there is one row
    assert {(a["client_id"], a["id"], a["seq"]) for a in acks} == {
        (client_id, ack["id"], ack["id"])
    }
    [message] = inbound(chat_desk)
    assert (message.id, message.sender_kind, message.sender) == (
        ack["id"], "webchat", session["visitor_id"])  # fmt: skip
    assert message.provider_message_id == f"{session['visitor_id']}/{client_id}"
    assert message.context["page_url"] == f"{SHOP}/p/earbuds"
    assert message.context["page_title"] == "无线蓝牙耳机"
    [raw] = rows(chat_desk, RawPayload, RawPayload.id == message.raw_payload_id)
    assert b"1234567890" in raw.content


def test_resume_returns_the_missed_messages_in_order(api, chat_desk, widgets) -> None:
    # Given a visitor who wrote three messages
    token = start_session(api)["visitor_token"]
    widget = widgets(token)
    acks = []
    for text in ("一", "二", "三"):
        sent = widget.say(text)
        acks.append(widget.wait_for(lambda f, c=sent: f["type"] == "ack" and f["client_id"] == c))
    widget.close()

    # When a new connection resumes after the first
    again = widgets(token)
    again.send(type="resume", after=acks[0]["seq"])

    # Then the later two come back, in order, as the visitor's
    frames = [again.wait_for(lambda f, t=t: f["type"] == "message" and f["text"] == t)
              for t in ("二", "三")]  # fmt: skip
    assert [f["seq"] for f in frames] == [acks[1]["seq"], acks[2]["seq"]]
    assert all(f["from"] == "visitor" for f in frames)
    assert [f["client_id"] for f in frames] == [acks[1]["client_id"], acks[2]["client_id"]]
    assert [f["text"] for f in again.messages("visitor")] == ["二", "三"]


def test_text_over_the_cap_and_bad_frames_are_refused_with_a_reason(api, chat_desk, widgets):
    widget = widgets(start_session(api)["visitor_token"])
    client_id = widget.say("长" * 4001)
    error = widget.wait_for(lambda f: f["type"] == "error")
    assert (error["code"], error["client_id"]) == ("too_long", client_id)
    widget.ws.send("not json")
    assert widget.wait_for(lambda f: f.get("code") == "bad_frame")
    widget.send(type="ping")
    assert widget.wait_for(lambda f: f["type"] == "pong")
    assert inbound(chat_desk) == []


def test_visitor_text_is_kept_as_text(api, chat_desk, widgets) -> None:
    widget = widgets(start_session(api)["visitor_token"])
    widget.say('<img src=x onerror="alert(1)">')
    widget.wait_for(lambda f: f["type"] == "ack")
    [message] = inbound(chat_desk)
    assert (message.text, message.html) == ('<img src=x onerror="alert(1)">', None)
