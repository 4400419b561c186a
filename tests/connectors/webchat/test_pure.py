"""The pure parts of the chat: tokens, the shop's user proof, origins, images, forms, frames."""

from __future__ import annotations

import time

import pytest
import time_machine

from connectors.webchat import frames, images, origin
from connectors.webchat.config import WebchatConfig
from connectors.webchat.contact import ContactError, ContactIn, checked, phone_e164
from connectors.webchat.token import Visitor, VisitorTokens, user_hash, user_verified

KEY = b"k" * 32


def test_a_token_carries_the_visitor_and_only_its_signer_reads_it() -> None:
    tokens = VisitorTokens([KEY], "tp-web", 365)
    visitor = Visitor("abc", "42")
    token = tokens.issue(visitor)
    assert tokens.read(token) == visitor
    assert tokens.read(token).address == "user:42"
    assert Visitor("abc").address == "visitor:abc"
    assert VisitorTokens([b"x" * 32], "tp-web", 365).read(token) is None
    assert VisitorTokens([KEY], "other-chat", 365).read(token) is None
    payload, stamp, signature = token.split(".")
    other = "A" if signature[0] != "A" else "B"
    assert tokens.read(f"{payload}.{stamp}.{other}{signature[1:]}") is None
    assert tokens.read(f"{payload[:-1]}x.{stamp}.{signature}") is None
    assert tokens.read("") is None
    assert tokens.read(None) is None


def test_a_token_survives_a_key_rotation_and_expires_after_its_age() -> None:
    old = VisitorTokens([KEY], "tp-web", 365).issue(Visitor("abc"))
    rotated = VisitorTokens([KEY, b"n" * 32], "tp-web", 365)
    assert rotated.read(old) == Visitor("abc")
    with time_machine.travel(time.time() + 366 * 86_400):
        assert rotated.read(old) is None


def test_the_user_hash_is_hex_hmac_sha256_of_the_user_id() -> None:
    # What `echo -n 42 | openssl dgst -sha256 -hmac secret` prints.
    proof = user_hash("secret", "42")
    assert proof == "93c121e7aa437a1e01e3c512c6f0ce3c821a839025dca4408f85616de4aaee70"
    assert user_verified("secret", "42", proof)
    assert user_verified("secret", "42", proof.upper())
    assert not user_verified("secret", "43", proof)
    assert not user_verified("other", "42", proof)
    assert not user_verified(None, "42", proof)
    assert not user_verified("secret", "42", None)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (None, True),
        ("https://shop.tp.example", True),
        ("https://SHOP.tp.example:443", True),
        ("https://m.tp.example", True),
        ("https://a.b.tp.example", True),
        ("https://tp.example", False),
        ("http://m.tp.example", False),
        ("https://shop.tp.example.evil.com", False),
        ("https://eviltp.example", False),
        ("http://127.0.0.1:8000", True),
        ("http://127.0.0.1:8001", False),
        ("null", False),
        ("", False),
    ],
)
def test_origins_are_matched_exactly_or_by_subdomain(header, ok) -> None:
    allowed = ("https://shop.tp.example", "https://*.tp.example")
    assert origin.allowed(header, allowed, "http://127.0.0.1:8000") is ok


def test_the_config_refuses_an_origin_with_a_path() -> None:
    with pytest.raises(ValueError, match="not an origin"):
        WebchatConfig(name="tp-web", allowed_origins=["https://shop.tp.example/chat"])
    config = WebchatConfig(name="tp-web", allowed_origins=["HTTPS://Shop.tp.example/"])
    assert config.allowed_origins == ("https://shop.tp.example",)
    assert "s3cr3t-value" not in repr(WebchatConfig(name="w", identity_secret="s3cr3t-value"))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"GIF87a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_images_are_told_by_their_bytes(data, kind) -> None:
    assert images.sniff(data) == kind


def test_an_attachment_id_names_its_owner_and_cannot_be_forged() -> None:
    ids = images.AttachmentIds([KEY], "tp-web")
    upload = images.Upload("sha256:" + "0" * 64, "image/png", 10, "visitor:abc", "a.png")
    assert ids.read(ids.issue(upload)) == upload
    assert ids.read(ids.issue(upload) + "x") is None
    assert images.AttachmentIds([b"x" * 32], "tp-web").read(ids.issue(upload)) is None
    assert images.safe_filename("../../etc/<b>.png", "image/png") == "b.png"
    assert images.safe_filename(None, "image/webp") == "image.webp"


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0044 7700 900123", "+447700900123"),
        ("+1 (650) 555-0111", "+16505550111"),
        ("12345", None),
        ("call me", None),
    ],
)
def test_phone_numbers_become_e164(text, e164) -> None:
    assert phone_e164(text) == e164


def test_the_contact_form_names_every_bad_field() -> None:
    assert checked(ContactIn(name="  王  小姐 ", email="A@B.cn")) == ("王 小姐", "a@b.cn", None)
    with pytest.raises(ContactError) as caught:
        checked(ContactIn(email="nope", phone="123"))
    assert caught.value.errors == {"email": "invalid_email", "phone": "invalid_phone"}
    with pytest.raises(ContactError) as caught:
        checked(ContactIn(name="王"))
    assert caught.value.errors == {"base": "email_or_phone_required"}


def test_message_frames_are_checked() -> None:
    ok = frames.read_message({"client_id": "c" * 36, "text": "hi"}, 10)
    assert (ok.client_id, ok.text, ok.attachment_id) == ("c" * 36, "hi", None)
    for frame, code in (
        ({"client_id": "short", "text": "hi"}, "bad_client_id"),
        ({"client_id": "c" * 36, "text": "x" * 11}, "too_long"),
        ({"client_id": "c" * 36, "text": "  "}, "empty"),
        ({"client_id": "c" * 36, "text": 5}, "bad_frame"),
    ):
        with pytest.raises(frames.FrameError) as caught:
            frames.read_message(frame, 10)
        assert caught.value.code == code
    assert frames.client_id_of("visitor:abc/1234-5678") == "1234-5678"


def test_a_chat_the_bot_holds_is_not_pushed_to_agents_inbox_feed() -> None:
    from omnidesk.services.inbox import Viewer
    from omnidesk.web.stream import Change

    viewer = Viewer("wang", sees_all=True, teams=frozenset())
    held = Change(1, "routed", {"id": 1, "team": "orders", "assignee": None, "bot_active": True})
    handed = Change(2, "handoff_requested", {**held.request, "bot_active": False})
    assert (held.visible_to(viewer), handed.visible_to(viewer)) == (False, True)
