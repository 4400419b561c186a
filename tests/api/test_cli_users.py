"""`omnidesk users`: the first admin, passwords and API tokens from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import Agent
from omnidesk.models.auth import AuditLog, Credential
from omnidesk.services import accounts

USERS = "from omnidesk.cli_users import users_app; users_app(prog_name='omnidesk users')"


@pytest.fixture
def users(settings):
    env = {
        **os.environ,
        "OMNIDESK_DATABASE_URL": settings.resolved_database_url,
        "OMNIDESK_DATA_DIR": str(settings.data_dir),
        "OMNIDESK_CONFIG": str(settings.config),
        "OMNIDESK_LOG_FORMAT": "json",
    }

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", USERS, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def test_the_first_admin_is_created_with_a_password_from_stdin(users, settings):
    made = users(
        "create",
        "boss",
        "--role",
        "admin",
        "--password-stdin",
        "--name",
        "Boss",
        stdin="a very long password\n",
    )

    assert made.returncode == 0, made.stderr
    with unit_of_work(settings) as session:
        agent = session.exec(select(Agent).where(Agent.username == "boss")).one()
        credential = session.exec(select(Credential)).one()
        audit = session.exec(select(AuditLog)).one()
        assert accounts.login(session, "boss", "a very long password", "cli").agent is not None
    assert (agent.role, agent.display_name, agent.source) == ("admin", "Boss", "console")
    assert credential.password_hash.startswith("$argon2id$")
    assert (audit.actor, audit.action) == ("cli", "agent_created")


def test_a_taken_name_or_a_short_password_fails_with_a_message(users):
    users("create", "boss", "--password", "a very long password")

    taken = users("create", "boss", "--password", "a very long password")
    short = users("create", "other", "--password", "short")

    assert taken.returncode == short.returncode == 1
    assert "already exists" in taken.stderr
    assert "at least 8 characters" in short.stderr


def test_setting_a_password_lets_the_user_in(users, settings):
    users("create", "lin", "--role", "agent", "--password", "first password")

    changed = users("set-password", "lin", "--password-stdin", stdin="second password\n")
    missing = users("set-password", "ghost", "--password", "whatever long")

    assert changed.returncode == 0, changed.stderr
    assert missing.returncode == 1
    with unit_of_work(settings) as session:
        assert accounts.login(session, "lin", "second password", "cli").agent is not None


def test_a_token_is_printed_once_on_stdout_and_works(users, settings):
    users("create", "crm", "--role", "agent", "--password", "a very long password")

    made = users("token", "crm", "--name", "CRM sync")

    secret = made.stdout.strip()
    assert made.returncode == 0, made.stderr
    assert secret.startswith(accounts.TOKEN_PREFIX)
    assert secret not in made.stderr
    with unit_of_work(settings) as session:
        found = accounts.token_agent(session, secret)
    assert found is not None
    assert found[1].username == "crm"


def test_users_are_listed_with_whether_they_can_sign_in(users):
    users("create", "boss", "--role", "admin", "--password", "a very long password")

    listed = users("list", "--json")

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"username": "boss", "role": "admin", "active": True, "teams": [], "can_sign_in": True}
    ]
