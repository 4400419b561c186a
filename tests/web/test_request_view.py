"""The request view in a real browser: changing the priority with a reason; media the provider
keeps (an MMS picture, a voicemail) shown inline and played, from our own URLs."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import Event, Message, Priority, Request
from tests.factories import (
    CUSTOMER,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    twilio_toml,
    wait_until,
)
from tests.web.conftest import Desk, Person, seed_request, sign_in


def test_an_agent_changes_the_priority_and_says_why(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    # Given a normal-priority request in the agent's team
    request_id = seed_request(desk.settings, "快递三天没动了")
    sign_in(page, desk, people["agent"], f"/requests/{request_id}")
    answers = iter(["", "customer is travelling tomorrow"])

    def answer(dialog: Dialog) -> None:
        reply = next(answers)
        if reply:
            dialog.accept(reply)
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    selector = page.get_by_test_id("set-priority")
    expect(selector).to_have_value("normal")

    # When the agent picks "urgent" but gives no reason, nothing changes
    selector.select_option("urgent")
    expect(selector).to_have_value("normal")

    # When the agent picks "urgent" again and says why
    selector.select_option("urgent")

    # Then the request is urgent, and the history says who and why
    expect(page.locator(".request-tags .p-urgent")).to_have_text("Urgent")
    expect(page.get_by_test_id("set-priority")).to_have_value("urgent")
    with unit_of_work(desk.settings) as session:
        assert session.get(Request, request_id).priority == Priority.URGENT  # type: ignore[union-attr]
        event = session.exec(select(Event).where(Event.kind == "priority_changed")).one()
        assert (event.actor, event.data["reason"]) == ("agent", "customer is travelling tomorrow")


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A real PNG (red pixels) for the browser to decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def sms_desk(configure, fake_twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    return configure(twilio_toml(fake_twilio.base_url))


def test_the_conversation_shows_an_mms_picture_inline_and_plays_a_voicemail(
    sms_desk, desk: Desk, worker, fake_twilio, people: dict[str, Person], page: Page
) -> None:
    # Given a customer's MMS picture and their voicemail, both kept by Twilio
    media_url = fake_twilio.media.add_media(TWILIO_SID, tiny_png(), "image/png")
    sms_url = f"{desk.url}/webhooks/tp-sms/sms"
    media = [(media_url, "image/png")]
    fake_twilio.deliver_sms(sms_url, CUSTOMER, TWILIO_NUMBER, "包裹破了", media=media)
    fake_twilio.call(f"{desk.url}/webhooks/tp-sms/voice", CUSTOMER, TWILIO_NUMBER, record_seconds=4)
    request_id = wait_until(lambda: _routed_request(desk, 2))

    # When the agent opens the request
    sign_in(page, desk, people["agent"], f"/requests/{request_id}")

    # Then the picture is shown inline, decoded, from our own URL
    image = page.get_by_test_id("attachment-image")
    expect(image).to_have_attribute("src", re.compile(r"^/api/v1/messages/\d+/attachments/0$"))
    decoded = "img => img.complete && img.naturalWidth > 0 && [img.naturalWidth, img.naturalHeight]"
    assert wait_until(lambda: image.evaluate(decoded)) == [3, 2]
    # And the voicemail has a player with controls, also from our URL
    player = page.get_by_test_id("recording").locator("audio")
    expect(player).to_have_attribute("controls", "")
    expect(player).to_have_attribute("src", re.compile(r"^/api/v1/messages/\d+/attachments/0$"))
    assert wait_until(lambda: player.evaluate("audio => audio.duration")) == 4
    # And nothing on the page points at Twilio
    assert "twilio.com" not in page.content()


def _routed_request(desk: Desk, messages: int) -> int | None:
    """The request once both messages joined it and it sits in a team the agent is in."""
    with unit_of_work(desk.settings) as session:
        found = session.exec(select(Message).where(Message.direction == "inbound")).all()
        if len(found) < messages or any(m.request_id is None for m in found):
            return None
        request = session.get(Request, found[0].request_id)
        request.team = "general"
        session.add(request)
        return request.id
