"""Every endpoint × every role: admin, supervisor, agent of the request's team, agent of another
team, anonymous → the status each gets. One desk (database, live server) serves the module;
each case makes its own fresh targets, so the cases stay independent."""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from omnidesk.api import v1
from omnidesk.api.app import create_app
from omnidesk.db import unit_of_work
from omnidesk.migrate import upgrade
from omnidesk.models import Agent, RoutingRule
from omnidesk.services import accounts, admin_directory, connector_admin, desk_settings
from omnidesk.services.pipeline import NullDispatcher
from omnidesk.settings import Settings
from tests import factories
from tests.api.seed import PASSWORD, Person, make_people, make_quarantined, make_request
from tests.live import LiveServer, free_port

ROLES = ("admin", "supervisor", "agent", "outsider", "anonymous")
_counter = itertools.count(1)


def everyone(code: int) -> dict[str, int]:
    return {"admin": code, "supervisor": code, "agent": code, "outsider": code, "anonymous": 401}


def team(code: int) -> dict[str, int]:
    """The request's team (and supervisors, admins) may; an agent of another team may not."""
    return everyone(code) | {"outsider": 403}


def staff(code: int) -> dict[str, int]:
    return everyone(code) | {"agent": 403, "outsider": 403}


def admins(code: int) -> dict[str, int]:
    return staff(code) | {"supervisor": 403}


@dataclass
class Desk:
    settings: Settings
    app: Any
    http: httpx.Client
    people: dict[str, Person]


class World(dict[str, str]):
    """What a case's path and body refer to, made on first use (so each case gets its own)."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.n = next(_counter)

    def __missing__(self, key: str) -> str:
        value = str(getattr(self, f"_make_{key}")())
        self[key] = value
        return value

    def _make_request(self) -> int:
        return self._seeded().request_id

    def _make_customer(self) -> int:
        return self._seeded().customer_id

    def _seeded(self) -> Any:
        if "seeded_request" not in self.__dict__:
            self.__dict__["seeded_request"] = make_request(
                self.desk.settings, sender=f"+86138{self.n:08d}"
            )
        return self.__dict__["seeded_request"]

    def _make_request2(self) -> int:
        settings, customer = self.desk.settings, int(self["customer"])
        return make_request(settings, customer_id=customer).request_id

    def _make_customer2(self) -> int:
        return make_request(self.desk.settings, sender=f"+86137{self.n:08d}").customer_id

    def _make_token(self) -> int:
        with unit_of_work(self.desk.settings) as session:
            agent = accounts.find_agent(session, "agent")
            return accounts.create_token(session, agent, f"case {self.n}")[1].id  # type: ignore

    def _make_agent(self) -> str:
        with unit_of_work(self.desk.settings) as session:
            accounts.create_user(session, f"target{self.n}", accounts.Role.AGENT)
        return f"target{self.n}"

    def _make_team(self) -> str:
        with unit_of_work(self.desk.settings) as session:
            admin_directory.save_team(
                session, self.desk.app.state.desk.config, {"name": f"team{self.n}"}
            )
        return f"team{self.n}"

    def _make_rule(self) -> int:
        with unit_of_work(self.desk.settings) as session:
            rule = admin_directory.check_rule(
                session, RULE, self.desk.app.state.desk.config, ["order"], ["twilio"]
            )
            return admin_directory.save_rule(session, rule).id  # type: ignore[return-value]

    def _make_connector(self) -> str:
        connector_admin.create(
            self.desk.app.state.desk, self.connector_settings(), "tests", skip_check=True
        )
        return f"console{self.n}"

    def _make_quarantine(self) -> int:
        return make_quarantined(self.desk.settings)

    def _make_hours(self) -> str:
        with unit_of_work(self.desk.settings) as session:
            desk_settings.save_hours(session, self._file(), f"hours{self.n}", {}, "tests")
        return f"hours{self.n}"

    def _make_sla(self) -> str:
        body = {"first_response": "1h", "resolution": "1d"}
        with unit_of_work(self.desk.settings) as session:
            desk_settings.save_sla(session, self._file(), f"sla{self.n}", body, "tests", [])
        return f"sla{self.n}"

    def _make_template(self) -> str:
        with unit_of_work(self.desk.settings) as session:
            desk_settings.save_template(session, self._file(), "en", "when_open", "Soon.", "tests")
        return "when_open"

    def _make_entry(self) -> str:
        with unit_of_work(self.desk.settings) as session:
            desk_settings.create_knowledge(
                session, self._file(), kb_entry(self, ""), "tests", ["order"]
            )
        return f"entry{self.n}"

    def _file(self) -> Any:
        return self.desk.app.state.desk.file_config

    def connector_settings(self) -> dict[str, Any]:
        return {
            "name": f"console{self.n}",
            "channel": "twilio",
            "account_sid": factories.TWILIO_SID,
            "auth_token": factories.TWILIO_TOKEN,
            "from_number": f"+1500555{self.n:04d}",
            "api_base_url": "http://127.0.0.1:9",
        }


RULE = {"name": "orders rule", "category": ["order"], "team": "orders"}
Body = dict[str, Any] | Callable[[World, str], dict[str, Any]] | None


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: dict[str, int]
    body: Body = None
    params: dict[str, Any] = field(default_factory=dict)


def _console_rule_ids(world: World, _role: str) -> dict[str, Any]:
    with unit_of_work(world.desk.settings) as session:
        rows = session.exec(select(RoutingRule.id).where(RoutingRule.source == "console"))
        return {"ids": sorted(rows)}


def kb_entry(world: World, _role: str) -> dict[str, Any]:
    return {
        "id": f"entry{world.n}",
        "language": "en",
        "title": "Gift wrapping",
        "questions": ["Do you gift wrap?", "Can you wrap my order?"],
        "answer": "Yes, at checkout.",
    }


def _login(_world: World, role: str) -> dict[str, Any]:
    return {
        "username": role if role != "anonymous" else "agent",
        "password": PASSWORD if role != "anonymous" else "not the password",
    }


CASES: list[Case] = [
    # Signing in and one's own account.
    Case("POST", "/auth/login", everyone(200), _login),
    Case("POST", "/auth/logout", everyone(204)),
    Case("GET", "/auth/me", everyone(200)),
    Case(
        "POST",
        "/auth/password",
        everyone(204),
        {"current_password": PASSWORD, "new_password": PASSWORD},
    ),
    Case("GET", "/auth/tokens", everyone(200)),
    Case("POST", "/auth/tokens", everyone(201), {"name": "integration"}),
    Case("DELETE", "/auth/tokens/{token}", everyone(204) | {"supervisor": 404, "outsider": 404}),
    Case("DELETE", "/auth/tokens/999999", everyone(404)),
    # The inbox and a request.
    Case("GET", "/requests", everyone(200)),
    Case("GET", "/requests", team(200), params={"team": "orders", "unassigned": "true"}),
    Case("GET", "/requests/{request}", team(200)),
    Case("GET", "/requests/999999", everyone(404)),
    Case("POST", "/requests/{request}/reply", team(201), {"text": "We are on it."}),
    Case("POST", "/requests/{request}/notes", team(201), {"text": "internal"}),
    Case(
        "POST",
        "/requests/{request}/feedback",
        team(409),  # not resolved yet: refused for whoever may see it
        {"resolution": "refunded", "root_cause": "logistics_delay"},
    ),
    Case("GET", "/follow-ups", staff(200)),
    Case("POST", "/follow-ups/999999/done", staff(404), {}),
    Case("PUT", "/requests/{request}/category", team(200), {"category": "payment"}),
    Case("PUT", "/requests/{request}/assignee", team(200), {"assignee": "agent"}),
    Case("PUT", "/requests/{request}/priority", team(200), {"priority": "high", "reason": "vip"}),
    Case("POST", "/requests/{request}/status", team(200), {"status": "pending"}),
    Case(
        "POST",
        "/requests/{request2}/merge",
        team(200),
        lambda world, _role: {"into": int(world["request"])},
    ),
    Case("GET", "/customers/{customer}", team(200)),
    Case("GET", "/customers/999999", everyone(404)),
    Case(
        "POST",
        "/customers/{customer2}/merge",
        team(200),
        lambda world, _role: {"into": int(world["customer"])},
    ),
    # People.
    Case("GET", "/agents", everyone(200)),
    Case("PUT", "/agents/me/availability", everyone(200), {"availability": "online"}),
    Case("PUT", "/agents/{agent}/availability", staff(200), {"availability": "away"}),
    Case(
        "POST",
        "/agents",
        admins(201),
        lambda world, _role: {
            "username": f"new{world.n}",
            "password": PASSWORD,
            "teams": ["orders"],
            "languages": ["zh"],
        },
    ),
    Case("PATCH", "/agents/{agent}", admins(200), {"capacity": 5, "teams": ["billing"]}),
    Case("PATCH", "/agents/nobody", admins(404), {"capacity": 5}),
    Case("DELETE", "/agents/{agent}", admins(204)),
    Case("GET", "/teams", everyone(200)),
    Case("POST", "/teams", admins(201), lambda world, _role: {"name": f"new-team{world.n}"}),
    Case("PATCH", "/teams/{team}", admins(200), {"display_name": "Night shift"}),
    Case("PATCH", "/teams/nope", admins(404), {"display_name": "x"}),
    Case("DELETE", "/teams/{team}", admins(204)),
    Case("GET", "/routing-rules", staff(200)),
    Case("POST", "/routing-rules", admins(201), RULE),
    Case("PUT", "/routing-rules/order", admins(200), _console_rule_ids),
    Case("PUT", "/routing-rules/{rule}", admins(200), RULE | {"set_priority": "high"}),
    Case("PUT", "/routing-rules/999999", admins(404), RULE),
    Case("DELETE", "/routing-rules/{rule}", admins(204)),
    # Connectors.
    Case("GET", "/admin/connectors", admins(200)),
    Case("GET", "/admin/connectors/schema", admins(200)),
    Case("GET", "/admin/connectors/schema/twilio", admins(200)),
    Case("GET", "/admin/connectors/tp-sms", admins(200)),
    Case("GET", "/admin/connectors/nope", admins(404)),
    Case(
        "POST",
        "/admin/connectors",
        admins(201),
        lambda world, _role: world.connector_settings(),
        params={"skip_check": "true"},
    ),
    Case(
        "PUT",
        "/admin/connectors/{connector}",
        admins(200),
        {"voice_language": "zh"},
        params={"skip_check": "true"},
    ),
    Case("POST", "/admin/connectors/tp-sms/check", admins(200)),
    Case("POST", "/admin/connectors/{connector}/disable", admins(200)),
    Case("POST", "/admin/connectors/{connector}/enable", admins(200)),
    Case("GET", "/admin/connectors/{connector}/diagnostics", admins(200)),
    # Quarantine, classifier, audit.
    Case("GET", "/quarantine", admins(200)),
    Case("GET", "/quarantine/{quarantine}", admins(200)),
    Case("GET", "/quarantine/999999", admins(404)),
    Case("POST", "/quarantine/{quarantine}/retry", admins(409)),
    Case("POST", "/quarantine/{quarantine}/discard", admins(204)),
    Case("GET", "/classifier", staff(200)),
    Case("POST", "/classifier/retrain", admins(200), {"force": False}),
    Case("GET", "/audit", admins(200)),
    Case("GET", "/reports", staff(200)),
    Case("GET", "/reports.csv", staff(200)),
    # The desk's settings: everyone reads them, admins change them.
    Case("GET", "/settings/hours", everyone(200)),
    Case("PUT", "/settings/hours/late", admins(200), {"opens": "12:00", "closes": "20:00"}),
    Case("DELETE", "/settings/hours/{hours}", admins(204)),
    Case("GET", "/settings/sla", everyone(200)),
    Case("PUT", "/settings/sla/vip", admins(200), {"first_response": "5m", "resolution": "1h"}),
    Case("DELETE", "/settings/sla/{sla}", admins(204)),
    Case("GET", "/settings/templates", everyone(200)),
    Case(
        "PUT", "/settings/templates/en/when_closed", admins(200), {"text": "After $next_opening."}
    ),
    Case("DELETE", "/settings/templates/en/{template}", admins(204)),
    Case("GET", "/settings/knowledge", everyone(200)),
    Case("POST", "/settings/knowledge", admins(201), kb_entry),
    Case("PUT", "/settings/knowledge/{entry}", admins(200), kb_entry),
    Case("DELETE", "/settings/knowledge/{entry}", admins(204), params={"language": "en"}),
]


@pytest.fixture(scope="module")
def desk(
    tmp_path_factory: pytest.TempPathFactory, postgres: Any, triage_model_dir: Any
) -> Iterator[Desk]:
    """One desk for the whole table: Twilio connector tp-sms (at the fake), teams, people."""
    base = tmp_path_factory.mktemp("roles")
    shutil.copytree(triage_model_dir, base / "triage")  # retraining must not touch the shared one
    with factories.fake_twilio() as fake:
        os.environ["TWILIO_AUTH_TOKEN"] = factories.TWILIO_TOKEN
        (base / "omnidesk.toml").write_text(factories.twilio_toml(fake.base_url), "utf-8")
        url = (
            f"sqlite:///{base / 'omnidesk.db'}"
            if postgres is None
            else postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
        )
        port = free_port()
        settings = Settings(
            environment="test",
            data_dir=base / "var",
            database_url=url,
            public_url=f"http://127.0.0.1:{port}",
            config=base / "omnidesk.toml",
            model_dir=base / "triage",
            log_format="console",
        )
        upgrade(settings)
        app = create_app(settings, dispatcher=NullDispatcher())
        v1.install(app)
        server = LiveServer(app, port).start()
        with httpx.Client(base_url=f"{settings.public_url}/api/v1", timeout=30) as http:
            yield Desk(settings, app, http, make_people(settings, passwords=True))
        server.stop()


TABLE = [(case, role) for case in CASES for role in ROLES]


@pytest.mark.parametrize(
    ("case", "role"),
    TABLE,
    ids=[f"{c.method} {c.path}{'?' if c.params else ''} {r}" for c, r in TABLE],
)
def test_each_role_gets_the_status_the_table_says(desk: Desk, case: Case, role: str) -> None:
    world = World(desk)
    path = case.path.format_map(world)
    body = case.body(world, role) if callable(case.body) else case.body
    headers = desk.people[role].auth if role in desk.people else {}

    response = desk.http.request(case.method, path, json=body, params=case.params, headers=headers)

    assert response.status_code == case.expected[role], response.text


def test_the_table_covers_every_endpoint_of_the_api() -> None:
    api = FastAPI()
    api.include_router(v1.api_router())
    documented = {
        (method.upper(), path.removeprefix(v1.PREFIX))
        for path, operations in api.openapi()["paths"].items()
        for method in operations
    }
    assert {(m, _template(p)) for m, p in documented} == {
        (c.method, _template(c.path)) for c in CASES
    }


def _template(path: str) -> str:
    """Paths compared by shape: every parameter or concrete id/name becomes {}."""
    parts = path.strip("/").split("/")
    fixed = {
        "auth",
        "login",
        "logout",
        "me",
        "password",
        "tokens",
        "requests",
        "reply",
        "notes",
        "category",
        "assignee",
        "priority",
        "status",
        "merge",
        "customers",
        "agents",
        "availability",
        "teams",
        "routing-rules",
        "order",
        "admin",
        "connectors",
        "schema",
        "check",
        "enable",
        "disable",
        "diagnostics",
        "quarantine",
        "retry",
        "discard",
        "classifier",
        "retrain",
        "audit",
        "settings",
        "hours",
        "sla",
        "templates",
        "knowledge",
    }
    return "/" + "/".join(p if p in fixed else "{}" for p in parts)


def test_a_deactivated_agents_token_is_refused_everywhere(desk: Desk) -> None:
    with unit_of_work(desk.settings) as session:
        agent = accounts.create_user(session, "leaver", accounts.Role.AGENT, teams=("orders",))
        secret, _ = accounts.create_token(session, agent, "old laptop")
    auth = {"Authorization": f"Bearer {secret}"}
    assert desk.http.get("/auth/me", headers=auth).status_code == 200

    desk.http.delete("/agents/leaver", headers=desk.people["admin"].auth)

    assert desk.http.get("/requests", headers=auth).status_code == 401
    with unit_of_work(desk.settings) as session:
        assert session.exec(select(Agent).where(Agent.username == "leaver")).one().active is False
