"""The agent's web UI in a real browser: sign in, the live inbox, replies, escaping, filters, zh/en.

Given/When/Then in each test. The desk runs for real (API, web UI, Redis broker, a worker); the
providers are the wire-level fakes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from fakes.twilio import post_webhook, sms_params
from fakes.wechat import FakeWeChat
from omnidesk.settings import Settings
from tests.factories import (
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    twilio_toml,
    wait_until,
    wechat_toml,
)
from tests.web.conftest import Desk, Person, seed_request, sign_in

OPENID = "oWebTest-customer-0001"
KNOWLEDGE = os.path.abspath("config/knowledge")


@pytest.fixture
def wechat_desk(
    configure: Callable[[str], Settings], fake_wechat: FakeWeChat, wechat_env: None
) -> Settings:
    knowledge = f'[knowledge]\ndirectory = "{KNOWLEDGE}"\n'
    return configure(knowledge + wechat_toml(fake_wechat.base_url))


@pytest.fixture
def sms_desk(configure: Callable[[str], Settings], fake_twilio, monkeypatch) -> Settings:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    return configure(twilio_toml(fake_twilio.base_url))


def rows(page: Page):
    return page.get_by_test_id("task-row")


# -- the three flows the issue asks for ---------------------------------------------------------


def test_an_agent_sees_a_new_wechat_request_arrive_live_and_the_reply_reaches_wechat(
    wechat_desk, desk: Desk, worker, fake_wechat: FakeWeChat, people: dict[str, Person], page: Page
) -> None:
    # Given the agent signed in through the login page, looking at an empty inbox
    page.goto(f"{desk.url}/")
    page.get_by_test_id("login-username").fill("agent")
    page.get_by_test_id("login-password").fill(people["agent"].password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("no-tasks")).to_be_visible()
    expect(page.get_by_test_id("live-status")).to_have_text("Live")
    page.evaluate("window.__sameDocument = true")

    # When a customer writes on WeChat
    fake_wechat.push_text(
        f"{desk.url}/webhooks/tp-wechat", OPENID, "你好，我的订单1234567890什么时候发货？"
    )

    # Then the task appears, with its channel, category, priority, language and SLA countdown
    row = rows(page).first
    expect(row).to_contain_text("我的订单1234567890", timeout=15_000)
    expect(row.get_by_test_id("channel")).to_have_attribute("data-channel", "wechat")
    expect(row.get_by_test_id("task-category")).to_have_text("Order")
    expect(row.get_by_test_id("task-priority")).not_to_be_empty()
    expect(row.get_by_test_id("task-language")).to_have_text("Chinese")
    expect(row.get_by_test_id("sla")).to_have_text(re.compile(r"\d+ (s|min|h|d) (left)|overdue"))
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    # When the agent opens it and replies
    row.click()
    expect(page.get_by_test_id("message-text").first).to_have_text(
        "你好，我的订单1234567890什么时候发货？"
    )
    expect(page.get_by_test_id("suggestion").first).to_contain_text("订单")  # knowledge base
    page.get_by_test_id("template-select").select_option(index=1)  # a canned reply
    expect(page.get_by_test_id("reply-text")).not_to_have_value("")
    page.get_by_test_id("reply-text").fill("您好，您的订单已于今天发货，预计明天送达。")
    page.get_by_test_id("reply-send").click()

    # Then the reply reaches the fake WeChat's customer-service API, and shows as sent
    wait_until(lambda: any("预计明天送达" in str(s["content"]) for s in fake_wechat.sent))
    sent = [s for s in fake_wechat.sent if "预计明天送达" in str(s["content"])]
    assert sent[0]["touser"] == OPENID
    reply = page.get_by_test_id("message").filter(has_text="预计明天送达")
    expect(reply.get_by_test_id("delivery")).to_have_text("sent", timeout=15_000)


def test_an_admin_adds_an_sms_connector_in_the_console_and_a_signed_webhook_to_its_url_works(
    desk: Desk, worker, fake_twilio, people: dict[str, Person], page: Page
) -> None:
    # Given an admin on the console's connectors page
    sign_in(page, desk, people["admin"], "/admin/connectors")

    # When they add a Twilio SMS connector through the form (tested against the fake Twilio)
    page.get_by_test_id("add-connector").click()
    page.get_by_test_id("connector-channel").select_option("twilio")
    form = page.get_by_test_id("connector-form")
    form.get_by_test_id("field-name").fill("console-sms")
    form.get_by_test_id("field-account_sid").fill(TWILIO_SID)
    form.get_by_test_id("field-auth_token").fill(TWILIO_TOKEN)
    form.get_by_test_id("field-from_number").fill(TWILIO_NUMBER)
    form.get_by_test_id("field-api_base_url").fill(fake_twilio.base_url)
    form.get_by_test_id("connector-save").click()

    # Then it is listed as ready, with its webhook URL
    row = page.get_by_test_id("connector-row").filter(has_text="console-sms")
    expect(row.get_by_test_id("connector-state")).to_have_text("Ready")
    expect(row.get_by_test_id("webhook-url")).to_have_text(f"{desk.url}/webhooks/console-sms")
    webhook = f"{row.get_by_test_id('webhook-url').inner_text()}/sms"

    # And a webhook signed with its token is taken, a forged one refused
    params = sms_params(TWILIO_SID, "+8613900000001", TWILIO_NUMBER, "新渠道测试：我的快递到哪了？")
    assert post_webhook(webhook, TWILIO_TOKEN, params).status_code == 200
    forged = sms_params(TWILIO_SID, "+8613900000002", TWILIO_NUMBER, "forged")
    assert post_webhook(webhook, "not-the-token", forged).status_code == 403

    # And the message becomes a task in the inbox
    page.get_by_test_id("nav-inbox").click()
    expect(rows(page).filter(has_text="新渠道测试")).to_have_count(1, timeout=15_000)
    expect(rows(page).filter(has_text="forged")).to_have_count(0)


HOSTILE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> 我的订单呢？'


def test_a_customer_message_with_a_script_tag_is_shown_as_text(
    sms_desk, desk: Desk, worker, people: dict[str, Person], page: Page
) -> None:
    # Given a customer whose SMS carries markup
    params = sms_params(TWILIO_SID, "+8613800000666", TWILIO_NUMBER, HOSTILE)
    assert post_webhook(f"{desk.url}/webhooks/tp-sms/sms", TWILIO_TOKEN, params).status_code == 200

    # When the agent sees it in the inbox and opens it
    sign_in(page, desk, people["agent"])
    row = rows(page).filter(has_text="<script>")
    expect(row).to_have_count(1, timeout=15_000)
    expect(row.get_by_test_id("task-title")).to_have_text(HOSTILE)
    row.click()

    # Then the text is shown exactly as written, and nothing of it became markup or ran
    inbound = page.locator("[data-testid=message][data-direction=inbound]")
    expect(inbound.get_by_test_id("message-text")).to_have_text(HOSTILE)
    assert page.locator("main script, main img[src='x']").count() == 0
    assert page.evaluate("window.__xss") is None


def test_a_wrong_password_shows_an_error_and_keeps_the_agent_out(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    page.goto(f"{desk.url}/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Finbox$"))

    page.get_by_test_id("login-username").fill("agent")
    page.get_by_test_id("login-password").fill("not the password")
    page.get_by_test_id("login-submit").click()

    expect(page.get_by_test_id("login-error")).to_have_text("Wrong username or password.")
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.request.get(f"{desk.url}/api/v1/auth/me").status == 401


def test_the_inbox_filters_by_channel_category_and_text_and_keeps_them_in_the_url(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    # Given requests on several channels and categories
    seed_request(desk.settings, "订单什么时候发货", channel="wechat", category="order")
    seed_request(desk.settings, "鞋子尺码不对要换货", channel="weibo", category="after_sales")
    seed_request(desk.settings, "Where is my refund?", channel="twilio", category="payment",
                 language="en", priority="high")  # fmt: skip
    seed_request(desk.settings, "已经解决的旧问题", channel="wechat", status="resolved")
    sign_in(page, desk, people["agent"])
    expect(rows(page)).to_have_count(3)  # open ones only

    # When the agent narrows the list, one filter at a time
    page.get_by_test_id("filter-channel").select_option("wechat")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("订单什么时候发货")
    page.get_by_test_id("filter-channel").select_option("")
    page.get_by_test_id("filter-category").select_option("after_sales")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("换货")
    page.get_by_test_id("filter-category").select_option("")
    page.get_by_test_id("filter-language").select_option("en")
    expect(rows(page)).to_have_count(1)
    page.get_by_test_id("filter-language").select_option("")
    page.get_by_test_id("filter-status").select_option("any")
    expect(rows(page)).to_have_count(4)
    page.get_by_test_id("filter-q").fill("refund")
    page.get_by_test_id("filter-q").press("Enter")

    # Then the list matches, and a reload keeps the filters
    expect(rows(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"status=any.*q=refund"))
    page.reload()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.get_by_test_id("task-priority")).to_have_text("High")


def test_the_ui_speaks_chinese_or_english_and_the_switch_is_remembered(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    seed_request(desk.settings, "我要投诉", category="complaint")
    sign_in(page, desk, people["agent"])
    expect(page.get_by_test_id("nav-inbox")).to_have_text("Inbox")  # the browser asks for en-US
    expect(rows(page).first.get_by_test_id("task-category")).to_have_text("Complaint")

    page.get_by_test_id("lang-switch").click()

    expect(page.get_by_test_id("nav-inbox")).to_have_text("收件箱")
    expect(rows(page).first.get_by_test_id("task-category")).to_have_text("投诉")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.reload()
    expect(page.get_by_test_id("logout")).to_have_text("退出登录")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("logout")).to_have_text("Sign out")
