"""`omnidesk demo`'s sign-in accounts: an admin and an online agent in every team, and the banner.

Only for the demo: the passwords are printed and well known. Run after the migrations and after
the desk config was synced (its teams must exist); accounts already there are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from omnidesk.db import unit_of_work
from omnidesk.models import Availability, Role, Team
from omnidesk.services import accounts
from omnidesk.services.assign import set_availability
from omnidesk.settings import Settings


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    display_name: str


DEMO_ACCOUNTS = (
    DemoAccount("admin", "demo-admin-pass", Role.ADMIN, "管理员 Admin"),
    DemoAccount("agent", "demo-agent-pass", Role.AGENT, "客服小王 Wang"),
)


def ensure_demo_accounts(settings: Settings) -> tuple[DemoAccount, ...]:
    """Create the demo's accounts if missing; the agent joins every team and goes online."""
    with unit_of_work(settings) as session:
        teams = tuple(session.exec(select(Team.name).order_by(Team.name)))
        for account in DEMO_ACCOUNTS:
            if accounts.find_agent(session, account.username) is not None:
                continue
            accounts.create_user(
                session,
                account.username,
                account.role,
                password=account.password,
                display_name=account.display_name,
                teams=teams if account.role == Role.AGENT else (),
            )
            session.flush()
            if account.role == Role.AGENT:
                set_availability(session, account.username, Availability.ONLINE, actor="demo")
    return DEMO_ACCOUNTS


def banner(url: str, demo_accounts: tuple[DemoAccount, ...] = DEMO_ACCOUNTS) -> str:
    """What `omnidesk demo` prints: where to open the desk and how to sign in."""
    lines = [
        f"omnidesk demo: open {url}/ in a browser",
        f"the demo shop with its website chat: {url}/webchat/tp-web/demo",
        "sign in as:",
    ]
    lines += [f"  {a.role:<6} {a.username} / {a.password}" for a in demo_accounts]
    return "\n".join(lines)
