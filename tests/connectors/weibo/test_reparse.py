"""A quarantined Weibo push read again: parsed as on arrival (its signature was checked then), and
one that still cannot be read stays held, through the admin API, with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.weibo import WeiboConnector, inbound
from connectors.weibo.config import WeiboConfig
from fakes.weibo import FakeWeibo
from omnidesk.connector import ConnectorEnv
from omnidesk.errors import Quarantine
from tests.api.seed import make_people
from tests.factories import wait_until

DATA = Path(__file__).parents[2] / "data" / "weibo"
SECRET = "weibo-reparse-app-secret"
TOKEN = "2.00weibo-reparse-access-token"
UID = 1902538057
CUSTOMER = 2489518277


def connector(tmp_path: Path) -> WeiboConnector:
    config = WeiboConfig(
        name="tp-weibo",
        app_key="1234567890",
        app_secret=SecretStr(SECRET),
        access_token=SecretStr(TOKEN),
    )
    return WeiboConnector(config, ConnectorEnv(public_url="http://127.0.0.1:9", data_dir=tmp_path))


def test_a_push_is_read_again_exactly_as_on_arrival(tmp_path: Path) -> None:
    raw = (DATA / "image__plain.json").read_bytes()

    again = connector(tmp_path).reparse(raw, "application/json")

    first = inbound.parse(raw, "tp-weibo")
    assert again.model_dump(exclude={"received_at"}) == first.model_dump(exclude={"received_at"})
    assert again.provider_message_id == first.provider_message_id  # so intake dedupes it


def test_a_push_that_still_cannot_be_read_raises_quarantine_with_the_reason(
    tmp_path: Path,
) -> None:
    raw = (DATA / "garbage__bad_date.json").read_bytes()

    with pytest.raises(Quarantine, match="created_at"):
        connector(tmp_path).reparse(raw, "application/json")


@pytest.fixture
def fake_weibo() -> Iterator[FakeWeibo]:
    with FakeWeibo(SECRET, {TOKEN: UID}) as fake:
        yield fake


@pytest.fixture
def weibo_desk(configure, fake_weibo, monkeypatch):
    monkeypatch.setenv("WEIBO_APP_SECRET", SECRET)
    monkeypatch.setenv("WEIBO_ACCESS_TOKEN", TOKEN)
    return configure(f"""
[[connectors]]
name = "tp-weibo"
channel = "weibo"
app_key = "1234567890"
app_secret = "${{WEIBO_APP_SECRET}}"
access_token = "${{WEIBO_ACCESS_TOKEN}}"
api_base_url = "{fake_weibo.base_url}"
""")


def test_a_held_push_retried_through_the_api_stays_held_with_its_reason(
    weibo_desk, fake_weibo, client
) -> None:
    # Given a signed push with a date nobody can read, quarantined on arrival
    payload = fake_weibo.payload("text", CUSTOMER, "hi", {}) | {"created_at": "yesterday"}
    assert fake_weibo.push(f"{weibo_desk.public_url}/webhooks/tp-weibo", payload).accepted
    admin = make_people(weibo_desk)["admin"].auth
    [held] = wait_until(lambda: client.get("/api/v1/quarantine", headers=admin).json()["items"])

    # When an admin retries it
    response = client.post(f"/api/v1/quarantine/{held['id']}/retry", headers=admin)

    # Then it is still unreadable: 422 with the reason, and still held
    assert response.status_code == 422
    assert response.json()["errors"] == {"base": "still_unreadable"}
    assert "created_at" in response.json()["detail"]
    shown = client.get(f"/api/v1/quarantine/{held['id']}", headers=admin).json()
    assert shown["status"] == "held"
    assert "created_at" in shown["reason"]
