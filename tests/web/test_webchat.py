"""Website chat in a real browser: the demo shop's widget, the 24-hour bot, hand-off, resilience.

Given/When/Then in each test. The desk runs for real (the API with the `tp-web` webchat
connector, the Redis broker, a worker); the shop's order system is the demo order service
(fakes/orders.py). The widget lives in an open shadow root, which Playwright's locators pierce.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import time_machine
from playwright.sync_api import Page, WebSocketRoute, expect
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from fakes.orders import FakeOrders
from omnidesk.db import unit_of_work
from omnidesk.models import Identity, Message
from omnidesk.settings import Settings
from tests.live import LiveServer, free_port
from tests.web.conftest import Desk, Person, sign_in

KNOWLEDGE = os.path.abspath("config/knowledge")
ORDER_TOKEN = "order-api-token"
CONNECTOR = "tp-web"
ORDER_QUESTION = "我的订单1234567890到哪了？"
HOSTILE = '<img src=x onerror="window.__xss=1"> 我的订单呢？'
MONDAY_2345_BEIJING = datetime(2026, 12, 7, 15, 45, tzinfo=UTC)


@pytest.fixture
def fake_orders() -> Iterator[FakeOrders]:
    with FakeOrders(token=ORDER_TOKEN) as fake:
        yield fake


@pytest.fixture
def chat_desk(
    configure: Callable[[str], Settings],
    settings: Settings,
    fake_orders: FakeOrders,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """A desk with the `tp-web` chat on its own origin, open around the clock (hand-off → agent)."""
    monkeypatch.setenv("ORDER_API_TOKEN", ORDER_TOKEN)
    return configure(f"""
[knowledge]
directory = "{KNOWLEDGE}"

[order_system]
url = "{fake_orders.url_template}"
headers = {{ Authorization = "Bearer ${{ORDER_API_TOKEN}}" }}

[[hours]]
name = "default"
time_zone = "UTC"
opens = 00:00:00
closes = 23:59:59.999999
workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
calendar = "none"

[[connectors]]
name = "{CONNECTOR}"
channel = "webchat"
allowed_origins = ["{settings.public_url}"]
""")


@pytest.fixture
def closed_desk(configure: Callable[[str], Settings], settings: Settings) -> Iterator[Settings]:
    """The same chat on Beijing's 09:00-18:00, Monday to Friday, at 23:45 on a Monday there
    (15:45 UTC; 07:45 that Monday in Los Angeles): specialists are back tomorrow at 09:00."""
    with time_machine.travel(MONDAY_2345_BEIJING, tick=True):
        yield configure(f"""
[knowledge]
directory = "{KNOWLEDGE}"

[[hours]]
name = "default"
time_zone = "Asia/Shanghai"
calendar = "none"

[[connectors]]
name = "{CONNECTOR}"
channel = "webchat"
allowed_origins = ["{settings.public_url}"]
""")


# -- the visitor's side -------------------------------------------------------------------------


def demo_url(desk: Desk, lang: str | None = None) -> str:
    return f"{desk.url}/webchat/{CONNECTOR}/demo" + (f"?lang={lang}" if lang else "")


def open_chat(page: Page, desk: Desk) -> None:
    """The visitor opens the demo shop and the chat panel; the bot is there."""
    page.goto(demo_url(desk))
    page.get_by_test_id("omnidesk-launcher").click()
    expect(page.get_by_test_id("omnidesk-status")).to_have_attribute("data-state", "bot")


def say(page: Page, text: str) -> None:
    page.get_by_test_id("omnidesk-input").fill(text)
    page.get_by_test_id("omnidesk-send").click()


def messages(page: Page, sender: str | None = None):
    who = f"[data-from={sender}]" if sender else ""
    return page.locator(f"[data-testid=omnidesk-message]{who}")


def stored(settings: Settings, text: str) -> int:
    """How many chat messages with exactly this text the desk stored."""
    with unit_of_work(settings) as session:
        query = (
            select(func.count())
            .select_from(Message)
            .where(Message.channel == "webchat", Message.text == text)
        )
        return int(session.exec(query).one())


def hand_off_to_the_agent(page: Page, agent: Page, first_words: str, button: bool = True) -> None:
    """The visitor asks for a person (the button, or typed when the bot may have handed the chat
    over on its own already); the chat shows up in the agent's live inbox, and they open it."""
    if button:
        page.get_by_test_id("omnidesk-handoff").click()
    else:
        say(page, "转人工")
    expect(page.get_by_test_id("omnidesk-status")).to_have_attribute(
        "data-state", re.compile("queued|agent"), timeout=15_000
    )
    row = agent.get_by_test_id("task-row").filter(has_text=first_words)
    expect(row).to_have_count(1, timeout=15_000)
    expect(row.get_by_test_id("channel")).to_have_attribute("data-channel", "webchat")
    row.click()


# -- the flows --------------------------------------------------------------------------


def test_the_bot_answers_a_chinese_order_question_with_its_status_and_a_reload_keeps_history(
    chat_desk, desk: Desk, worker, page: Page
) -> None:
    # Given a visitor on the demo shop with the chat open
    open_chat(page, desk)

    # When they ask in Chinese where their order is
    say(page, ORDER_QUESTION)

    # Then their message is shown at once, and the bot answers from the demo order service
    mine = messages(page, "visitor").filter(has_text=ORDER_QUESTION)
    expect(mine).to_have_count(1)
    answer = messages(page, "bot").filter(has_text="SF1234567890123")
    expect(answer).to_have_count(1, timeout=15_000)
    expect(answer).to_contain_text("顺丰速运")
    expect(answer).to_contain_text("发货")  # shipped
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    expect(answer.get_by_test_id("omnidesk-action")).to_have_text("转人工")  # a person, always
    expect(page.get_by_test_id("omnidesk-handoff")).to_be_visible()
    texts = page.get_by_test_id("omnidesk-message-text").all_inner_texts()

    # When the visitor reloads the page and opens the chat again
    page.reload()
    page.get_by_test_id("omnidesk-launcher").click()

    # Then the whole conversation is back, in order, each message once
    expect(page.get_by_test_id("omnidesk-message-text")).to_have_text(texts)
    expect(messages(page, "visitor").filter(has_text=ORDER_QUESTION)).to_have_count(1)
    assert stored(desk.settings, ORDER_QUESTION) == 1


def test_a_visitor_asks_for_a_person_and_the_agent_sees_the_chat_live_and_replies(
    chat_desk, desk: Desk, worker, people: dict[str, Person], page: Page, agent_page: Page
) -> None:
    # Given an agent watching an empty inbox, and a visitor who asked the bot something
    sign_in(agent_page, desk, people["agent"])
    expect(agent_page.get_by_test_id("no-tasks")).to_be_visible()
    agent_page.evaluate("window.__sameDocument = true")
    open_chat(page, desk)
    say(page, ORDER_QUESTION)
    answer = messages(page, "bot").filter(has_text="SF1234567890123")
    expect(answer).to_have_count(1, timeout=15_000)

    # When the visitor presses "转人工", the chat reaches the agent without a reload
    hand_off_to_the_agent(page, agent_page, "1234567890")
    assert agent_page.evaluate("window.__sameDocument") is True, "the inbox was reloaded"
    expect(messages(page, "visitor").filter(has_text="转人工")).to_have_count(1)

    # And the agent, who sees the whole chat, replies in the conversation
    expect(agent_page.get_by_test_id("message-text").first).to_have_text(ORDER_QUESTION)
    agent_page.get_by_test_id("reply-text").fill("您好，我是客服小王，请先试试重新配对耳机。")
    agent_page.get_by_test_id("reply-send").click()

    # Then the visitor sees the reply, from the agent
    reply = messages(page, "agent").filter(has_text="请先试试重新配对耳机")
    expect(reply).to_have_count(1, timeout=15_000)
    expect(reply).to_contain_text("Wang Agent")
    expect(page.get_by_test_id("omnidesk-status")).to_have_attribute("data-state", "agent")


def test_a_message_sent_while_offline_arrives_exactly_once_after_reconnect(
    chat_desk, desk: Desk, worker, page: Page
) -> None:
    # Given a visitor chatting, whose connection then drops
    open_chat(page, desk)
    page.context.set_offline(True)
    expect(page.get_by_test_id("omnidesk-status")).to_have_attribute("data-state", "offline")

    # When they send a message while offline
    text = "断网时发送的消息：订单1122334455"
    say(page, text)
    mine = messages(page, "visitor").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", "sending")
    assert stored(desk.settings, text) == 0

    # Then once back online it is delivered, stored once and shown once
    page.context.set_offline(False)
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"), timeout=15_000)
    expect(page.get_by_test_id("omnidesk-status")).to_have_attribute("data-state", "bot")
    assert stored(desk.settings, text) == 1
    expect(mine).to_have_count(1)


class AckThief:
    """Carries the widget's WebSocket through Playwright; after the visitor's `text` reached the
    desk, swallows the desk's answer (the ack) and cuts the line, as a flaky mobile link does."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sent: list[dict] = []
        self.stealing = False
        self.cut = False

    def __call__(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def up(message: str | bytes) -> None:
            frame = json.loads(message)
            self.sent.append(frame)
            if frame.get("type") == "message" and frame.get("text") == self.text:
                self.stealing = not self.cut
            server.send(message)

        def down(message: str | bytes) -> None:
            if self.stealing and not self.cut:
                if json.loads(message).get("type") == "ack":
                    self.cut = True
                    ws.close(code=4000, reason="line cut")
                    server.close()
                return
            ws.send(message)

        ws.on_message(up)
        server.on_message(down)

    def copies_sent(self) -> list[str]:
        return [f["client_id"] for f in self.sent if f.get("text") == self.text]


def test_a_message_whose_ack_was_lost_is_resent_with_its_id_and_stored_once(
    chat_desk, desk: Desk, worker, page: Page
) -> None:
    # Given a visitor on a link that drops right after the desk took their message
    text = "信号不好时发送：订单5566778899"
    thief = AckThief(text)
    page.route_web_socket(re.compile(rf"/webchat/{CONNECTOR}/ws"), thief)
    open_chat(page, desk)

    # When they send it (the desk stores it, but its ack never arrives)
    say(page, text)

    # Then the widget reconnects and re-sends it with the same client id; stored and shown once
    mine = messages(page, "visitor").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"), timeout=15_000)
    assert thief.cut, "the line was never cut"
    copies = thief.copies_sent()
    assert len(copies) >= 2, copies  # sent, then re-sent after the reconnect
    assert len(set(copies)) == 1, copies  # with the same client id
    assert stored(desk.settings, text) == 1
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-client-id", copies[0])


def test_a_message_not_yet_sent_survives_a_reload_and_is_sent_once(
    chat_desk, desk: Desk, worker, page: Page
) -> None:
    # Given a visitor whose chat connection hangs (nothing goes through)
    healthy = False

    def link(ws: WebSocketRoute) -> None:
        if healthy:
            ws.connect_to_server()  # from now on, frames pass both ways untouched
        # else: never connected to the desk, what the widget sends goes nowhere

    page.route_web_socket(re.compile(rf"/webchat/{CONNECTOR}/ws"), link)
    open_chat(page, desk)
    text = "刷新前没发出去的消息"
    say(page, text)
    expect(messages(page, "visitor").filter(has_text=text)).to_have_attribute(
        "data-state", "sending"
    )

    # When the connection is healthy again and they reload the page
    healthy = True
    page.reload()
    page.get_by_test_id("omnidesk-launcher").click()

    # Then the message kept in the browser is delivered, once
    mine = messages(page, "visitor").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"), timeout=15_000)
    expect(mine).to_have_count(1)
    assert stored(desk.settings, text) == 1


def test_markup_in_a_chat_message_is_shown_as_text_to_the_visitor_and_the_agent(
    chat_desk, desk: Desk, worker, people: dict[str, Person], page: Page, agent_page: Page
) -> None:
    # Given a visitor who types markup into the chat
    sign_in(agent_page, desk, people["agent"])
    open_chat(page, desk)
    say(page, HOSTILE)

    # Then the widget shows it as text, and nothing of it ran
    mine = messages(page, "visitor").filter(has_text="onerror")
    expect(mine.get_by_test_id("omnidesk-message-text")).to_have_text(HOSTILE)
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("window.__xss") is None

    # When the chat is handed to the agent and they open it
    expect(messages(page, "bot")).not_to_have_count(0, timeout=15_000)
    hand_off_to_the_agent(page, agent_page, "onerror", button=False)

    # Then the agent's conversation view shows it as text too
    inbound = agent_page.locator("[data-testid=message][data-direction=inbound]")
    expect(inbound.get_by_test_id("message-text").first).to_have_text(HOSTILE)
    assert agent_page.locator("main img[src='x']").count() == 0
    assert agent_page.evaluate("window.__xss") is None


@pytest.mark.clock
@pytest.mark.parametrize("browser_zone", ["America/Los_Angeles"])
def test_after_hours_the_bot_says_when_a_person_answers_and_takes_contact_details(
    closed_desk, desk: Desk, worker, page: Page
) -> None:
    # Given a visitor in Los Angeles (07:45 on Monday there) on the demo shop while no specialist
    # is on duty in Beijing (23:45 on Monday)
    page.clock.install(time=MONDAY_2345_BEIJING)
    open_chat(page, desk)

    # When they ask for a person
    page.get_by_test_id("omnidesk-handoff").click()

    # Then the bot says when a specialist will answer, and the contact form shows
    expect(page.get_by_test_id("omnidesk-status")).to_have_attribute(
        "data-state", "after_hours", timeout=15_000
    )
    expect(messages(page, "bot").filter(has_text="非工作时间")).to_have_count(1)
    # and both say one time, the desk's, and the status line says whose clock that is
    expect(messages(page, "bot").filter(has_text="明天 09:00")).to_have_count(1)
    expect(page.get_by_test_id("omnidesk-status")).to_have_text(
        "人工客服将于 明天 09:00（北京时间） 回复您，请留下联系方式"
    )
    form = page.get_by_test_id("omnidesk-contact-form")
    expect(form).to_be_visible()

    # When they leave a wrong email, they are told; with a right one, the desk keeps it
    form.get_by_test_id("omnidesk-contact-name").fill("李女士")
    form.get_by_test_id("omnidesk-contact-email").fill("li at example")
    form.get_by_test_id("omnidesk-contact-submit").click()
    expect(form.get_by_test_id("omnidesk-contact-message")).to_contain_text("email")
    form.get_by_test_id("omnidesk-contact-email").fill("li@example.com")
    form.get_by_test_id("omnidesk-contact-submit").click()
    expect(form).to_be_hidden()
    expect(page.get_by_test_id("omnidesk-notice")).to_have_text("谢谢，我们会尽快联系您。")
    with unit_of_work(desk.settings) as session:
        emails = session.exec(select(Identity.address).where(Identity.kind == "email")).all()
    assert emails == ["li@example.com"]


def png(width: int = 2, height: int = 2) -> bytes:
    """A small, valid PNG (red pixels), made here so no file is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


def test_an_image_is_uploaded_and_shown_and_a_non_image_is_refused_in_the_browser(
    chat_desk, desk: Desk, worker, page: Page
) -> None:
    # Given a visitor with the chat open
    open_chat(page, desk)
    chooser = page.get_by_test_id("omnidesk-file")

    # When they pick a text file, the widget refuses it before any upload
    chooser.set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain",
                                    "buffer": b"hello"}])  # fmt: skip
    expect(page.get_by_test_id("omnidesk-notice")).to_contain_text("只能发送图片")

    # When they pick a picture
    chooser.set_input_files(files=[{"name": "photo.png", "mimeType": "image/png",
                                    "buffer": png()}])  # fmt: skip

    # Then it is sent as a message, shown from the desk's URL, and stored once with the image
    mine = messages(page, "visitor").filter(has=page.get_by_test_id("omnidesk-image"))
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    image = mine.get_by_test_id("omnidesk-image")
    expect(image).to_have_attribute("src", re.compile(rf"^{desk.url}/webchat/{CONNECTOR}/files/"))
    loaded = "img => img.complete && img.naturalWidth === 2"  # the bytes came back from the desk
    page.wait_for_function(loaded, arg=image.element_handle())
    with unit_of_work(desk.settings) as session:
        rows = session.exec(select(Message).where(Message.channel == "webchat")).all()
    assert [m.attachments[0]["content_type"] for m in rows if m.attachments] == ["image/png"]


EVIL_PORT_PAGE = """<!doctype html><html lang="en"><head><title>Not the shop</title></head>
<body><p>A page that copied the shop's widget line.</p>
<script src="{src}" async></script></body></html>"""


@pytest.fixture
def foreign_site(desk: Desk) -> Iterator[str]:
    """A page on another origin (another port) that embeds the desk's widget."""
    src = f"{desk.url}/webchat/{CONNECTOR}/widget.js"

    def home(_request):
        return HTMLResponse(EVIL_PORT_PAGE.format(src=src))

    port = free_port()
    server = LiveServer(Starlette(routes=[Route("/", home)]), port).start()
    yield f"http://localhost:{port}"
    server.stop()


def test_a_foreign_origin_gets_no_chat_session(
    chat_desk, desk: Desk, foreign_site: str, page: Page
) -> None:
    # Given a page on an origin the connector does not allow, with the widget on it
    page.goto(f"{foreign_site}/")

    # When a visitor opens the chat there
    page.get_by_test_id("omnidesk-launcher").click()

    # Then no session is made: no token, no visitor, the chat cannot be used
    status = page.get_by_test_id("omnidesk-status")
    expect(status).to_have_attribute("data-state", re.compile("^(refused|unavailable)$"))
    assert page.evaluate(f"localStorage.getItem('omnidesk:{CONNECTOR}:token')") is None
    with unit_of_work(desk.settings) as session:
        assert session.exec(select(func.count()).select_from(Identity)).one() == 0

    # And a direct request with that Origin is refused, while the shop's own origin is served
    body = {"visitor_token": None, "language": "en", "page_url": f"{foreign_site}/"}
    url = f"{desk.url}/webchat/{CONNECTOR}/session"
    refused = httpx.post(url, json=body, headers={"Origin": foreign_site})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "origin not allowed"}
    allowed = httpx.post(url, json=body, headers={"Origin": desk.url})
    assert allowed.status_code == 200
    assert allowed.json()["visitor_token"]


# -- keyboard, screen readers, languages, phones ------------------------------------------------


def test_the_widget_works_from_the_keyboard_and_names_its_parts(
    chat_desk, desk: Desk, worker, page: Page
) -> None:
    # Given the demo shop, the launcher focused from the keyboard
    page.goto(demo_url(desk))
    launcher = page.get_by_role("button", name="打开在线客服")
    launcher.focus()

    # When Enter opens the chat
    page.keyboard.press("Enter")

    # Then the input has the focus and every part has an accessible name
    box = page.get_by_role("textbox", name="输入消息")
    expect(box).to_be_focused()
    expect(page.get_by_test_id("omnidesk-launcher")).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="发送", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="发送图片")).to_be_visible()
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")

    # When they type two lines (Shift+Enter) and press Enter
    page.keyboard.type("第一行")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("第二行")
    expect(box).to_have_value("第一行\n第二行")
    page.keyboard.press("Enter")

    # Then one message with both lines is sent and the box is empty again
    mine = messages(page, "visitor")
    expect(mine.get_by_test_id("omnidesk-message-text")).to_have_text("第一行\n第二行")
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    expect(box).to_have_value("")

    # And Escape closes the panel and gives the focus back to the launcher
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("omnidesk-panel")).to_be_hidden()
    expect(page.get_by_test_id("omnidesk-launcher")).to_be_focused()
    expect(page.get_by_test_id("omnidesk-launcher")).to_have_attribute("aria-expanded", "false")


LABELS = {
    "zh": {"launcher": "打开在线客服", "send": "发送", "handoff": "转人工", "input": "输入消息"},
    "en": {"launcher": "Open chat", "send": "Send", "handoff": "Talk to a person",
           "input": "Message"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_widget_speaks_the_language_of_the_page(
    chat_desk, desk: Desk, page: Page, lang: str
) -> None:
    page.goto(demo_url(desk, lang))
    expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{lang}"))
    labels = LABELS[lang]
    launcher = page.get_by_test_id("omnidesk-launcher")
    expect(launcher).to_have_attribute("aria-label", labels["launcher"])
    launcher.click()
    expect(page.get_by_test_id("omnidesk-send")).to_have_attribute("aria-label", labels["send"])
    expect(page.get_by_test_id("omnidesk-handoff")).to_have_text(labels["handoff"])
    expect(page.get_by_role("textbox", name=labels["input"])).to_be_visible()


def test_on_a_phone_the_chat_fills_the_screen(chat_desk, desk: Desk, page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(demo_url(desk))
    page.get_by_test_id("omnidesk-launcher").click()
    panel = page.get_by_test_id("omnidesk-panel")
    expect(panel).to_be_visible()
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 700}
    expect(page.get_by_test_id("omnidesk-input")).to_be_in_viewport()
