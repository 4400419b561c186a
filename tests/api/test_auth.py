"""Signing in: argon2 passwords, session cookies with CSRF, bearer tokens, rate limits, lockout."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from omnidesk.api import v1
from omnidesk.api.app import create_app
from omnidesk.db import unit_of_work
from omnidesk.models import Event
from omnidesk.models.auth import ApiToken, Credential, LoginAttempt
from omnidesk.services import accounts
from omnidesk.services.pipeline import NullDispatcher
from tests.api.seed import PASSWORD, make_people
from tests.live import LiveServer, free_port

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def people(settings):
    return make_people(settings, passwords=True)


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(LOGIN, json={"username": username, "password": password})


def test_signing_in_sets_an_http_only_same_site_cookie_and_returns_the_csrf_token(client, people):
    response = login(client, "agent")

    assert response.status_code == 200
    body = response.json()
    assert body["agent"]["username"] == "agent"
    assert body["agent"]["teams"] == ["orders"]
    assert body["auth"] == "session"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("omnidesk_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # served over http here
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["csrf_token"] == body["csrf_token"]
    assert me.json()["desk"]["time_zone"] == "Asia/Shanghai"  # pages take the desk's clock
    assert body["desk"]["today"] == me.json()["desk"]["today"]


def test_the_session_cookie_is_secure_when_the_desk_is_served_over_https(settings, people):
    port = free_port()
    https = settings.model_copy(update={"public_url": "https://desk.example"})
    app = create_app(https, dispatcher=NullDispatcher())
    v1.install(app)
    server = LiveServer(app, port).start()
    try:
        response = httpx.post(
            f"http://127.0.0.1:{port}{LOGIN}", json={"username": "agent", "password": PASSWORD}
        )
    finally:
        server.stop()
    assert response.status_code == 200
    assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(client, people):
    wrong = login(client, "agent", "not the password")
    unknown = login(client, "nobody", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "invalid_credentials", "errors": {}}
    assert "set-cookie" not in wrong.headers
    with unit_of_work(client.app.state.settings) as session:
        attempts = session.exec(select(LoginAttempt)).all()
    assert [(a.username, a.succeeded) for a in attempts] == [("agent", False), ("nobody", False)]


def test_five_failures_lock_the_account_even_for_the_right_password(client, people):
    for _ in range(5):
        assert login(client, "agent", "guess").status_code == 401

    locked = login(client, "agent")

    assert locked.status_code == 429
    assert 800 < int(locked.headers["retry-after"]) <= 900
    assert locked.json()["detail"] == "too_many_attempts"
    with unit_of_work(client.app.state.settings) as session:
        credential = session.exec(select(Credential)).all()
        events = session.exec(select(Event).where(Event.kind == "account_locked")).all()
    assert [c.locked_until is not None for c in credential].count(True) == 1
    assert events[0].data["agent"] == "agent"
    # Someone else signs in as usual.
    assert login(client, "outsider").status_code == 200


def test_an_admin_resetting_the_password_unlocks_the_account(client, people):
    for _ in range(6):
        login(client, "agent", "guess")

    reset = client.patch(
        "/api/v1/agents/agent",
        json={"password": "a brand new password"},
        headers=people["admin"].auth,
    )

    assert reset.status_code == 200
    assert login(client, "agent", "a brand new password").status_code == 200


def test_many_failures_from_one_address_are_rate_limited_whatever_the_username(client, people):
    for n in range(accounts.MAX_FAILURES_PER_ADDRESS):
        assert login(client, f"user{n}", "guess").status_code == 401

    response = login(client, "supervisor")

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_cookie_requests_that_change_things_need_the_csrf_header(client, people):
    csrf = login(client, "agent").json()["csrf_token"]

    missing = client.post("/api/v1/auth/tokens", json={"name": "ci"})
    wrong = client.post(
        "/api/v1/auth/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": "not-the-token"}
    )
    right = client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": csrf})

    assert missing.status_code == wrong.status_code == 403
    assert missing.json()["detail"] == "csrf_token_missing_or_wrong"
    assert right.status_code == 201
    # Reading needs no CSRF token.
    assert client.get("/api/v1/auth/tokens").status_code == 200


def test_bearer_tokens_need_no_csrf_header(client, people):
    response = client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers=people["agent"].auth)

    assert response.status_code == 201


def test_signing_out_ends_the_session(client, people):
    csrf = login(client, "agent").json()["csrf_token"]
    cookie = client.cookies["omnidesk_session"]

    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})

    assert response.status_code == 204
    assert 'omnidesk_session=""' in response.headers["set-cookie"]
    replayed = httpx.get(f"{client.base_url}/api/v1/auth/me", cookies={"omnidesk_session": cookie})
    assert replayed.status_code == 401


def test_a_new_token_is_shown_once_works_and_stops_when_revoked(client, people):
    created = client.post(
        "/api/v1/auth/tokens", json={"name": "crm"}, headers=people["agent"].auth
    ).json()
    secret = created["token"]
    bearer = {"Authorization": f"Bearer {secret}"}

    listed = client.get("/api/v1/auth/tokens", headers=bearer).json()
    assert [t["name"] for t in listed] == ["agent tests", "crm"]
    assert all("token" not in t for t in listed)
    assert client.get("/api/v1/auth/me", headers=bearer).json()["auth"] == "token"
    with unit_of_work(client.app.state.settings) as session:
        stored = session.get(ApiToken, created["id"])
    assert stored.token_hash == accounts.digest(secret) != secret

    assert client.delete(f"/api/v1/auth/tokens/{created['id']}", headers=bearer).status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_missing_malformed_or_unknown_credentials_are_401_with_a_challenge(client, people):
    for headers in (
        {},
        {"Authorization": "Basic YWdlbnQ6eA=="},
        {"Authorization": "Bearer odk_not-a-token"},
    ):
        response = client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_deactivated_agent_can_no_longer_sign_in_or_use_tokens(client, people):
    login(client, "agent")
    client.cookies.clear()

    assert client.delete("/api/v1/agents/agent", headers=people["admin"].auth).status_code == 204

    assert client.get("/api/v1/auth/me", headers=people["agent"].auth).status_code == 401
    assert login(client, "agent").status_code == 401


def test_changing_ones_password_needs_the_current_one(client, people):
    auth = people["agent"].auth
    wrong = client.post(
        "/api/v1/auth/password",
        headers=auth,
        json={"current_password": "guess", "new_password": "another password"},
    )
    short = client.post(
        "/api/v1/auth/password",
        headers=auth,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    right = client.post(
        "/api/v1/auth/password",
        headers=auth,
        json={"current_password": PASSWORD, "new_password": "another password"},
    )

    assert wrong.status_code == 403
    assert short.status_code == 422
    assert short.json()["errors"] == {"password": "too_short"}
    assert right.status_code == 204
    assert login(client, "agent", "another password").status_code == 200


def test_passwords_are_stored_as_argon2id_hashes(client, people):
    with unit_of_work(client.app.state.settings) as session:
        hashes = [c.password_hash for c in session.exec(select(Credential))]
    assert len(hashes) == 4
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
