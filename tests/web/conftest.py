"""Browser-test fixtures: Debian's Chromium driven by Playwright, the live desk, its people.

Chromium comes from `scripts/install-test-deps` (apt), never from Playwright's download: a
missing /usr/bin/chromium fails the run with the command to fix it. Each test gets a fresh
browser context (its own profile: cookies, storage, cache); a failed test leaves a full-page
screenshot in its tmp dir. An uncaught JavaScript error fails the test that caused it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import (
    Availability,
    ConnectorRecord,
    Customer,
    Direction,
    Identity,
    Message,
    Request,
    Role,
    Stage,
    Team,
    utcnow,
)
from omnidesk.settings import Settings
from tests.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "web-tests-password-1"
TEAMS = ("general", "orders")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the web tests drive Debian's Chromium. Install it with "
            "scripts/install-test-deps (or: sudo apt-get install -y chromium)",
            pytrace=False,
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium; every context it opens starts from a fresh, empty profile."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def browser_zone() -> str | None:
    """The browser's time zone: None is the machine's (TZ); a test parametrizes it to put the
    person in another zone than the desk's."""
    return None


@pytest.fixture
def page(
    browser: Browser, request: pytest.FixtureRequest, tmp_path: Path, browser_zone: str | None
) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-US", viewport={"width": 1360, "height": 900}, timezone_id=browser_zone
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        sys.stderr.write(f"screenshot of the failure: {shot}\n")
    context.close()
    if errors and not (report is not None and report.failed):
        pytest.fail(f"uncaught JavaScript errors: {errors}")


@pytest.fixture
def agent_page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A second person's browser (its own context and profile), e.g. the agent beside a visitor."""
    context = browser.new_context(locale="en-US", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(path=str(tmp_path / "agent-failure.png"), full_page=True)
    context.close()
    if errors and not (report is not None and report.failed):
        pytest.fail(f"uncaught JavaScript errors in the second browser: {errors}")


# -- the desk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """The running desk the browser talks to."""

    url: str
    settings: Settings
    app: Any


def build_app(settings: Settings) -> Any:
    """create_app, with /api/v1 and the web UI mounted (no-ops once create_app does both)."""
    from omnidesk.api import v1
    from omnidesk.api.app import create_app
    from omnidesk.web import web_router
    from workers.dispatch import DramatiqDispatcher

    app = create_app(settings, dispatcher=DramatiqDispatcher())
    v1.install(app)
    paths = {getattr(r, "path", None) for r in app.routes}
    if "/api/v1/reports" not in paths:  # until /api/v1 lists the reports router itself
        from omnidesk.api.routes import reports

        app.include_router(reports.router, prefix=v1.PREFIX)
    if "/api/v1/events/stream" not in paths:
        app.include_router(web_router)
    return app


@pytest.fixture
def desk(settings: Settings, broker: dramatiq.Broker) -> Iterator[Desk]:
    """The API and web UI on the settings' public URL (write the config before asking)."""
    app = build_app(settings)
    server = LiveServer(app, int(settings.public_url.rsplit(":", 1)[1])).start()
    yield Desk(settings.public_url, settings, app)
    server.stop()


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    password: str = PASSWORD


@pytest.fixture
def people(settings: Settings) -> dict[str, Person]:
    """An online agent in teams general and orders, and an admin; both can sign in."""
    from omnidesk.config_file import DeskConfig
    from omnidesk.services import accounts, admin_directory
    from omnidesk.services.assign import set_availability

    with unit_of_work(settings) as session:
        for team in TEAMS:
            if admin_directory.find_team(session, team) is None:
                admin_directory.save_team(session, DeskConfig(path=None), {"name": team})
        accounts.create_user(session, "agent", Role.AGENT, password=PASSWORD,
                             display_name="Wang Agent", teams=TEAMS)  # fmt: skip
        accounts.create_user(session, "admin", Role.ADMIN, password=PASSWORD)
        session.flush()
        set_availability(session, "agent", Availability.ONLINE, actor="tests")
    return {"agent": Person("agent", "agent"), "admin": Person("admin", "admin")}


def sign_in(page: Page, desk: Desk, person: Person, path: str = "/inbox") -> Page:
    """Sign in through the API (the cookie lands in the page's context), then open `path`."""
    response = page.request.post(
        f"{desk.url}/api/v1/auth/login",
        data={"username": person.username, "password": person.password},
    )
    assert response.ok, response.text()
    page.goto(f"{desk.url}{path}")
    page.get_by_test_id("live-status").filter(has_text="Live").wait_for()
    return page


def seed_request(settings: Settings, text: str, **fields: Any) -> int:
    """A request with one inbound SMS, written straight to the database."""
    name = fields.pop("customer_name", None)
    values: dict[str, Any] = {"channel": "twilio", "category": "order", "team": "general",
                              "language": "zh", "status": "open"} | fields  # fmt: skip
    with unit_of_work(settings) as session:
        connector = session.exec(select(ConnectorRecord)).first()
        if connector is None:
            connector = ConnectorRecord(name="seed-sms", channel="twilio", source="console")
            session.add(connector)
        customer = Customer(display_name=name)
        session.add(customer)
        session.flush()
        number = f"+8613{customer.id:09d}"
        identity = Identity(customer_id=customer.id, kind="phone", address=number)  # type: ignore[arg-type]
        session.add(identity)
        session.flush()
        request = Request(customer_id=customer.id, connector_id=connector.id,  # type: ignore[arg-type]
                          last_message_at=utcnow(), **values)  # fmt: skip
        session.add(request)
        session.flush()
        session.add(Message(connector_id=connector.id, channel=request.channel,  # type: ignore[arg-type]
                            direction=Direction.INBOUND, request_id=request.id,
                            customer_id=customer.id, identity_id=identity.id, sender=number,
                            sender_kind="phone", text=text, stage=Stage.DONE,
                            provider_message_id=f"SEED{request.id}"))  # fmt: skip
        return request.id  # type: ignore[return-value]


def team_exists(settings: Settings, name: str) -> bool:
    with unit_of_work(settings) as session:
        return session.exec(select(Team).where(Team.name == name)).first() is not None
