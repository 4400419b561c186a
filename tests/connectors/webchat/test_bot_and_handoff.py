"""The 24-hour bot and the hand-off, end to end: the socket, the pipeline (real Redis broker and a
worker), the fake order system, the agents' API and the send worker publishing back."""

from __future__ import annotations

import pytest

from omnidesk.models import Event, Identity, Request
from tests.connectors.webchat.conftest import (
    WEDNESDAY_23_BEIJING,
    rows,
    start_session,
)
from tests.factories import wait_until

pytestmark = pytest.mark.clock


def queue_ids(api, person) -> list[int]:
    response = api.get("/api/v1/requests", headers=person.auth)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def reply_from(widget, sender: str, after: int = 0) -> dict:
    return widget.wait_for(lambda f: f["type"] == "message" and f["from"] == sender and
                           f["seq"] > after)  # fmt: skip


def events_of(settings, kind: str) -> list[Event]:
    return rows(settings, Event, Event.kind == kind)


def test_the_bot_tells_where_an_order_is_in_chinese_and_offers_a_person(
    api, chat_desk, widgets, worker, people
) -> None:
    # When a visitor asks in Chinese where order 1234567890 is
    widget = widgets(start_session(api)["visitor_token"])
    widget.say("我的订单1234567890到哪了")
    ack = widget.wait_for(lambda f: f["type"] == "ack")

    # Then the bot answers with its status from the order system, and offers a person
    answer = reply_from(widget, "bot", ack["seq"])
    assert "1234567890" in answer["text"]
    assert "已发货" in answer["text"]
    assert "顺丰" in answer["text"]
    assert "转人工" in answer["text"]
    assert answer["actions"] == [{"type": "handoff", "label": "转人工"}]
    assert answer["agent_name"] is None

    # And the chat is the bot's: no task in anyone's queue
    [request] = rows(chat_desk, Request)
    assert (request.channel, request.bot_active, request.assignee) == ("webchat", True, None)
    assert request.id not in queue_ids(api, people["admin"])
    assert request.id not in queue_ids(api, people["agent"])
    assert widget.wait_for(lambda f: f["type"] == "state")["state"] == "bot"


def test_asking_for_a_person_hands_the_chat_to_the_desk(
    api, chat_desk, widgets, worker, people
) -> None:
    # Given a visitor on a product page the bot answered about an order
    page = {"page_url": "https://shop.tp.example/p/earbuds", "page_title": "无线蓝牙耳机"}
    widget = widgets(start_session(api, **page)["visitor_token"])
    widget.say("我的订单1234567890到哪了")
    first = reply_from(widget, "bot")

    # When they press the hand-off button (the widget sends its label)
    widget.say("转人工")

    # Then the bot says a specialist will answer shortly, and the chat is queued
    handoff = reply_from(widget, "bot", first["seq"])
    assert "客服" in handoff["text"]
    assert handoff["actions"] == []
    assert widget.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
    [event] = wait_until(lambda: events_of(chat_desk, "handoff_requested"))
    assert event.data["reason"] == "asked"

    # And it is a task in the orders team's queue, for its agent too
    [request] = rows(chat_desk, Request)
    assert (request.bot_active, request.team) == (False, "orders")
    assert request.first_response_due is not None
    assert request.id in queue_ids(api, people["agent"])

    # And the agent sees the page the visitor chats from
    detail = api.get(f"/api/v1/requests/{request.id}", headers=people["agent"].auth).json()
    inbound = [m for m in detail["messages"] if m["direction"] == "inbound"]
    assert inbound[0]["context"]["page_url"] == page["page_url"]
    assert inbound[0]["context"]["page_title"] == page["page_title"]


def test_a_later_question_on_another_topic_gets_its_own_answer(
    api, chat_desk, widgets, worker
) -> None:
    # Given a chat that opened with an order question the bot answered
    widget = widgets(start_session(api)["visitor_token"])
    widget.say("我的订单1234567890到哪了")
    first = reply_from(widget, "bot")
    assert "顺丰" in first["text"]

    # When the visitor then asks how returns work
    widget.say("退货怎么办")

    # Then the bot answers from the knowledge base's returns entry, not "I did not understand"
    second = reply_from(widget, "bot", first["seq"])
    assert "退" in second["text"]
    assert not events_of(chat_desk, "bot_failed")
    assert [r.bot_active for r in rows(chat_desk, Request)] == [True]


def test_two_messages_the_bot_cannot_answer_hand_off(api, chat_desk, widgets, worker) -> None:
    widget = widgets(start_session(api)["visitor_token"])
    widget.say("你好")
    unsure = reply_from(widget, "bot")
    assert unsure["actions"] == [{"type": "handoff", "label": "转人工"}]

    widget.say("你们的猫叫什么名字？")

    reply_from(widget, "bot", unsure["seq"])
    [event] = wait_until(lambda: events_of(chat_desk, "handoff_requested"))
    assert event.data["reason"] == "bot_failed_twice"
    assert [r.bot_active for r in rows(chat_desk, Request)] == [False]


def test_an_unclear_first_message_the_bot_cannot_answer_goes_to_a_person(
    api, chat_desk, widgets, worker
) -> None:
    # The classifier is unsure of this opening ("that thing we talked about last time")
    widget = widgets(start_session(api)["visitor_token"])
    widget.say("上次说的那个事情")
    reply_from(widget, "bot")
    [event] = wait_until(lambda: events_of(chat_desk, "handoff_requested"))
    assert event.data["reason"] == "low_confidence"
    [request] = rows(chat_desk, Request)
    assert (request.needs_triage, request.bot_active) == (True, False)


def test_a_complaint_goes_to_a_person_at_once(api, chat_desk, widgets, worker) -> None:
    widget = widgets(start_session(api)["visitor_token"])
    widget.say("我要投诉，快递员态度太差")
    reply_from(widget, "bot")
    [event] = wait_until(lambda: events_of(chat_desk, "handoff_requested"))
    assert event.data["reason"] == "complaint"


def test_an_agents_reply_reaches_the_visitor_with_their_name(
    api, chat_desk, widgets, worker, people
) -> None:
    # Given a chat handed to the desk
    widget = widgets(start_session(api)["visitor_token"])
    widget.say("我的订单1234567890到哪了")
    first = reply_from(widget, "bot")
    widget.say("转人工")
    reply_from(widget, "bot", first["seq"])
    [request] = wait_until(lambda: [r for r in rows(chat_desk, Request) if not r.bot_active])

    # When the agent types, then replies through the reply API
    typing = api.post(f"/api/v1/requests/{request.id}/typing", headers=people["agent"].auth)
    assert typing.status_code == 204
    assert widget.wait_for(lambda f: f["type"] == "typing" and f["from"] == "agent")
    sent = api.post(
        f"/api/v1/requests/{request.id}/reply",
        json={"text": "您好，我是客服，您的包裹明天送达。"},
        headers=people["agent"].auth,
    )
    assert sent.status_code == 201, sent.text

    # Then the visitor sees it from the agent, by name, and the chat is the agent's
    reply = reply_from(widget, "agent")
    assert (reply["id"], reply["text"]) == (sent.json()["id"], "您好，我是客服，您的包裹明天送达。")
    assert reply["agent_name"] == "agent"
    assert widget.wait_for(lambda f: f["type"] == "read")["up_to"] < reply["seq"]
    assert widget.wait_for(lambda f: f["type"] == "state" and f["state"] == "agent")

    # And when the visitor has read it, the agent sees it read
    widget.send(type="read", up_to=reply["seq"])
    wait_until(lambda: events_of(chat_desk, "reply_read"))


def test_a_reply_sent_while_the_visitor_was_away_comes_back_on_resume(
    api, chat_desk, widgets, worker
) -> None:
    session = start_session(api)
    widget = widgets(session["visitor_token"])
    widget.say("我的订单1234567890到哪了")
    ack = widget.wait_for(lambda f: f["type"] == "ack")
    widget.close()  # the phone lost its connection before the bot answered

    wait_until(lambda: events_of(chat_desk, "replied"))
    again = widgets(session["visitor_token"])
    again.send(type="resume", after=ack["seq"])
    answer = reply_from(again, "bot", ack["seq"])
    assert "1234567890" in answer["text"]
    history = start_session(api, visitor_token=session["visitor_token"])["history"]
    assert [m["from"] for m in history] == ["visitor", "bot"]


@pytest.mark.parametrize("clock_at", [WEDNESDAY_23_BEIJING])
def test_after_hours_the_bot_says_when_and_takes_contact_details(
    api, chat_desk, widgets, worker
) -> None:
    # Given a visitor at 23:00 in Beijing, when specialists are off
    session = start_session(api)
    widget = widgets(session["visitor_token"])

    # When they ask for a person
    widget.say("转人工")

    # Then the bot says when a specialist will answer and asks for their details
    answer = reply_from(widget, "bot")
    assert "09:00" in answer["text"]
    assert "邮箱" in answer["text"]
    state = widget.wait_for(lambda f: f["type"] == "state" and f["state"] == "after_hours")
    assert state["eta"].startswith("2026-11-26T09:00")
    assert state["eta_text"] == {
        "zh": "明天 09:00（北京时间）",
        "en": "tomorrow at 09:00 (Beijing time)",
    }
    assert state["time_zone"] == "Asia/Shanghai"

    # And the contact form's details become the customer's identities
    form = {"visitor_token": session["visitor_token"], "name": "王小姐"}
    bad = api.post("/webchat/tp-web/contact", json=form | {"email": "not-an-email"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"email": "invalid_email"}
    saved = api.post(
        "/webchat/tp-web/contact",
        json=form | {"email": "Wang@Example.com", "phone": "138 0013 8000"},
    )
    assert saved.status_code == 200, saved.text
    identities = {(i.kind, i.address) for i in rows(chat_desk, Identity)}
    assert {("email", "wang@example.com"), ("phone", "+8613800138000")} <= identities
    assert len({i.customer_id for i in rows(chat_desk, Identity)}) == 1
