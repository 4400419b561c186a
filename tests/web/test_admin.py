"""The admin console in a real browser: connectors, teams and agents, routing rules, settings,
quarantine and the dashboard; and that agents do not get in."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import time_machine
from playwright.sync_api import Page, expect
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import ConnectorRecord, QuarantinedPayload, RawPayload
from tests.clock import AFTER_DESK_MIDNIGHT, BEFORE_DESK_MIDNIGHT, BEFORE_UTC_MIDNIGHT
from tests.factories import TWILIO_NUMBER, TWILIO_SID
from tests.web.conftest import Desk, Person, seed_request, sign_in


def test_a_refused_auth_token_is_shown_on_its_field_and_nothing_is_saved(
    desk: Desk, fake_twilio, people: dict[str, Person], page: Page
) -> None:
    sign_in(page, desk, people["admin"], "/admin/connectors")
    page.get_by_test_id("add-connector").click()
    form = page.get_by_test_id("connector-form")
    form.get_by_test_id("field-name").fill("wrong-sms")
    form.get_by_test_id("field-account_sid").fill(TWILIO_SID)
    form.get_by_test_id("field-auth_token").fill("a-wrong-token")
    form.get_by_test_id("field-from_number").fill(TWILIO_NUMBER)
    form.get_by_test_id("field-api_base_url").fill(fake_twilio.base_url)

    form.get_by_test_id("connector-save").click()

    expect(form.get_by_test_id("field-error-auth_token")).to_have_text(
        "The provider refused these credentials."
    )
    expect(page.get_by_test_id("connector-row")).to_have_count(0)
    with unit_of_work(desk.settings) as session:
        assert session.exec(select(ConnectorRecord)).all() == []


def test_an_admin_creates_a_team_and_an_agent_who_can_then_sign_in(
    desk: Desk, people: dict[str, Person], page: Page, browser
) -> None:
    # Given the admin on the teams and agents page
    sign_in(page, desk, people["admin"], "/admin/people")

    # When they add a team, then an agent in it with a password
    page.get_by_test_id("add-team").click()
    page.get_by_test_id("team-name").fill("vip")
    page.get_by_test_id("team-save").click()
    expect(page.get_by_test_id("team-row-name").filter(has_text="vip")).to_have_count(1)
    page.get_by_test_id("add-agent").click()
    page.get_by_test_id("agent-username").fill("li.na")
    page.get_by_test_id("agent-password").fill("li-na-password-1")
    page.get_by_test_id("checks-teams").get_by_label("vip").check()
    page.get_by_test_id("agent-save").click()

    # Then the agent is listed in the team, and can sign in in another browser
    row = page.get_by_test_id("agent-row").filter(has_text="li.na")
    expect(row).to_contain_text("vip")
    other = browser.new_context(locale="zh-CN")
    try:
        theirs = other.new_page()
        theirs.goto(f"{desk.url}/login")
        theirs.get_by_test_id("login-username").fill("li.na")
        theirs.get_by_test_id("login-password").fill("li-na-password-1")
        theirs.get_by_test_id("login-submit").click()
        expect(theirs.get_by_test_id("nav-inbox")).to_have_text("收件箱")
        expect(theirs.get_by_test_id("nav-admin")).to_have_count(0)
    finally:
        other.close()


def test_an_admin_adds_a_routing_rule_after_the_existing_ones(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    sign_in(page, desk, people["admin"], "/admin/rules")
    page.get_by_test_id("add-rule").click()
    page.get_by_test_id("rule-name").fill("会员优先 VIP")
    page.get_by_test_id("rule-keywords").fill("会员, VIP")
    page.get_by_test_id("checks-channel").get_by_label("WeChat").check()
    page.get_by_test_id("rule-team").select_option("orders")
    page.get_by_test_id("rule-save").click()

    row = page.get_by_test_id("rule-row").filter(has_text="会员优先 VIP")
    expect(row).to_contain_text("orders")
    expect(row).to_contain_text("会员, VIP")
    expect(row).to_contain_text("wechat")


def quarantine(desk: Desk, content: bytes) -> int:
    with unit_of_work(desk.settings) as session:
        raw = RawPayload(
            sha256="0" * 64, content_type="text/xml", size=len(content), content=content
        )
        session.add(raw)
        session.flush()
        held = QuarantinedPayload(raw_payload_id=raw.id, reason="unparseable XML")  # type: ignore[arg-type]
        session.add(held)
        session.flush()
        return held.id  # type: ignore[return-value]


def test_a_quarantined_payload_is_shown_as_text_and_can_be_discarded(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    payload = "<xml><script>window.__xss = 1</script>坏数据</xml>"
    quarantine(desk, payload.encode())
    sign_in(page, desk, people["admin"], "/admin/quarantine")

    page.get_by_test_id("quarantine-open").click()
    expect(page.get_by_test_id("quarantine-payload")).to_have_text(payload)
    assert page.evaluate("window.__xss") is None
    page.get_by_test_id("quarantine-discard").click()

    expect(page.get_by_test_id("quarantine-row")).to_have_count(0)
    with unit_of_work(desk.settings) as session:
        assert [q.status for q in session.exec(select(QuarantinedPayload))] == ["discarded"]


def test_the_settings_pages_show_hours_slas_and_the_knowledge_base(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    sign_in(page, desk, people["admin"], "/admin/hours-sla")
    expect(page.get_by_test_id("hours-row").first).to_contain_text("09:00")
    expect(page.get_by_test_id("sla-row").first).to_be_visible()

    page.get_by_test_id("admin-nav-knowledge").click()
    entries = page.get_by_test_id("kb-entry")
    expect(entries.first).to_be_visible()
    total = entries.count()
    page.get_by_test_id("kb-filter").fill("退货")
    expect(page.locator("[data-testid=kb-entry]:visible")).not_to_have_count(total)


def test_an_admin_adds_a_holiday_and_it_is_there_after_a_reload(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    # Given the admin editing the default hours
    sign_in(page, desk, people["admin"], "/admin/hours-sla")
    row = page.get_by_test_id("hours-row").filter(has_text="default")
    row.get_by_test_id("hours-edit").click()
    form = page.get_by_test_id("hours-form")

    # When they add a holiday and an impossible closing time, the refusal shows on the form
    form.get_by_test_id("date-input-holidays").fill("2027-10-11")
    form.get_by_test_id("date-add-holidays").click()
    form.get_by_test_id("hours-closes").fill("08:00")
    form.get_by_test_id("hours-save").click()
    expect(form.get_by_test_id("hours-form-error")).to_contain_text("must be after opens")

    # And with the closing time put right the holiday is saved over the built-in hours
    form.get_by_test_id("hours-closes").fill("18:00")
    form.get_by_test_id("hours-save").click()
    expect(row.get_by_test_id("setting-source")).to_contain_text("console")

    # Then after a reload it is still there, and the API's desk uses it
    page.reload()
    expect(row.get_by_test_id("hours-holidays")).to_have_text("2027-10-11")
    hours = desk.app.state.desk.config.hours["default"]
    assert date(2027, 10, 11) in hours.holidays


def test_an_admin_edits_a_knowledge_answer_and_resets_it(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    sign_in(page, desk, people["admin"], "/admin/knowledge")
    entry = page.locator("[data-testid=kb-entry][data-id=invoice]").filter(has_text="Invoice")
    entry.get_by_test_id("kb-edit").click()
    form = page.get_by_test_id("kb-form")
    form.get_by_test_id("kb-answer").fill("<b>Invoices</b> are under My Orders.")
    form.get_by_test_id("kb-short_answer").fill("x" * 400)
    form.get_by_test_id("kb-save").click()
    expect(form.get_by_test_id("field-error-short_answer")).to_contain_text("SMS segments")

    form.get_by_test_id("kb-short_answer").fill("Invoices: My Orders.")
    form.get_by_test_id("kb-save").click()
    page.reload()

    expect(entry.get_by_test_id("kb-answer")).to_have_text("<b>Invoices</b> are under My Orders.")
    expect(entry.get_by_test_id("setting-source")).to_have_text(
        "console · replaces the file's (or built-in) entry"
    )
    entry.get_by_test_id("kb-remove").click()
    expect(entry.get_by_test_id("setting-source")).to_have_text("config file")
    expect(entry.get_by_test_id("kb-answer")).not_to_contain_text("<b>")


def test_a_template_with_an_unknown_placeholder_is_refused_on_the_form(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    sign_in(page, desk, people["admin"], "/admin/templates")
    form = page.locator("[data-testid=template-form][data-template='en/when_closed']")
    expect(form.get_by_test_id("template-placeholders")).to_have_text("$next_opening")

    form.get_by_test_id("template-text").fill("Back at $opening.")
    form.get_by_test_id("template-save").click()
    expect(form.get_by_test_id("field-error-text")).to_contain_text("unknown placeholder $opening")

    form.get_by_test_id("template-text").fill("We are back $next_opening.")
    form.get_by_test_id("template-save").click()
    page.reload()
    expect(form.get_by_test_id("template-text")).to_have_value("We are back $next_opening.")
    expect(form.get_by_test_id("setting-source")).to_contain_text("console")


# The desk is in Beijing; the browser in UTC or in Los Angeles, where it is still the day before
# (or, at 23:59 UTC, Beijing's morning of the next day). The chart counts the desk's days.
@pytest.mark.clock
@pytest.mark.parametrize("browser_zone", ["UTC", "America/Los_Angeles"])
@pytest.mark.parametrize(
    ("instant", "desk_today"),
    [
        (BEFORE_DESK_MIDNIGHT, "2026-12-07"),
        (AFTER_DESK_MIDNIGHT, "2026-12-08"),
        (BEFORE_UTC_MIDNIGHT, "2026-12-08"),
    ],
    ids=["15:59Z", "16:30Z", "23:59Z"],
)
def test_the_dashboard_charts_volume_by_channel_and_category(
    desk: Desk,
    people: dict[str, Person],
    page: Page,
    browser_zone: str,
    instant: datetime,
    desk_today: str,
) -> None:
    traveller = time_machine.travel(instant, tick=True)
    traveller.start()
    page.clock.install(time=instant)  # the browser's own clock says the same instant
    try:
        seed_request(desk.settings, "订单到哪了", channel="wechat", category="order")
        seed_request(desk.settings, "我要退货", channel="wechat", category="after_sales")
        seed_request(desk.settings, "投诉快递", channel="weibo", category="complaint")

        sign_in(page, desk, people["admin"], "/dashboard")

        expect(page.get_by_test_id("dashboard-days")).to_contain_text(f"– {desk_today}")
        expect(page.get_by_test_id("dashboard-days")).to_contain_text("Asia/Shanghai")
        expect(page.get_by_test_id("kpi-total")).to_contain_text("3")
        charts = page.get_by_test_id("chart")
        today = charts.first.locator("g.bar").last  # today's stack is the last bar
        expect(today).to_have_attribute("data-day", desk_today)
        expect(today).to_have_attribute("data-total", "3")
        expect(charts.nth(1).locator("g.hbar")).to_have_count(2)  # WeChat, Weibo
        expect(charts.nth(2).locator("g.hbar")).to_have_count(3)
        page.get_by_test_id("dashboard-breakdown").select_option("category")
        expect(page.locator(".legend")).to_contain_text("Complaint")
        expect(charts.first.locator("g.bar").last).to_have_attribute("data-total", "3")
    finally:
        traveller.stop()


def test_an_agent_sees_neither_the_admin_console_nor_the_dashboard(
    desk: Desk, people: dict[str, Person], page: Page
) -> None:
    sign_in(page, desk, people["agent"])
    expect(page.get_by_test_id("nav-admin")).to_have_count(0)
    expect(page.get_by_test_id("nav-dashboard")).to_have_count(0)

    page.goto(f"{desk.url}/admin/connectors")

    expect(page.locator(".error-box")).to_have_text(re.compile("may not"))
    status = page.request.get(f"{desk.url}/api/v1/admin/connectors").status
    assert status == 403
