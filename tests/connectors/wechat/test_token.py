"""The shared access token, over the wire to the fake WeChat and through a real Redis."""

from __future__ import annotations

import json
import threading

import pytest

from connectors.wechat.token import LocalStore, TokenCache
from fakes.wechat import STABLE_TOKEN_PATH, FakeWeChat
from omnidesk.errors import CannotConnect, InvalidAuth, PermanentSendError, TransientError
from tests.connectors.wechat.conftest import APP_ID, SECRET, MakeConnector, make_reply

SEND_PATH = "/cgi-bin/message/custom/send"


def sends(fake: FakeWeChat) -> list[dict[str, object]]:
    return [r for r in fake.requests if r["path"] == SEND_PATH]


def force_flags(fake: FakeWeChat) -> list[bool]:
    return [json.loads(r["body"]).get("force_refresh") for r in fake.token_calls()]


# -- one token for every worker ------------------------------------------------------------------


def test_two_connector_instances_share_one_token_fetch(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    # Given two workers' connectors on the same Redis
    first, second = make_connector(), make_connector()

    first.send(make_reply())
    second.send(make_reply())

    assert len(fake.token_calls()) == 1
    assert fake.token_calls()[0]["path"] == STABLE_TOKEN_PATH
    assert fake.sent[0]["token"] == fake.sent[1]["token"]


def test_concurrent_first_sends_fetch_the_token_once(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connectors = [make_connector() for _ in range(2)]
    fake.hang_next(0.3, path=STABLE_TOKEN_PATH)  # a slow fetch, so the others must wait for it
    threads = [threading.Thread(target=connectors[n % 2].tokens.get) for n in range(8)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(fake.token_calls()) == 1


def test_token_is_refreshed_five_minutes_before_it_expires(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connector = make_connector()
    connector.tokens.clock = fake.now
    connector.send(make_reply())

    fake.advance(6800)  # 400 s left: still used
    connector.send(make_reply())
    fake.advance(150)  # 250 s left: fetched again, before WeChat would refuse it
    connector.send(make_reply())

    assert len(fake.token_calls()) == 2
    tokens = [s["token"] for s in fake.sent]
    assert tokens[0] == tokens[1] != tokens[2]
    assert fake.valid_token(tokens[2])


def test_revoked_token_gets_one_refresh_and_one_retry(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connector = make_connector()
    connector.send(make_reply())
    fake.revoke_tokens()  # e.g. someone force-refreshed the stable token elsewhere

    connector.send(make_reply())

    assert [r["errcode"] for r in sends(fake)] == [0, 40001, 0]
    assert force_flags(fake) == [False, False]
    assert len(fake.sent) == 2


def test_expired_token_gets_one_refresh_and_one_retry(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connector = make_connector()
    connector.send(make_reply())
    fake.advance(7201)  # the cache's own clock did not move: only WeChat knows it expired

    connector.send(make_reply())

    assert [r["errcode"] for r in sends(fake)] == [0, 42001, 0]


def test_rejected_token_that_stable_token_still_returns_is_force_refreshed(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connector = make_connector()
    connector.send(make_reply())
    fake.fail_next(40001)  # WeChat says "not latest" while stable_token still hands it out

    connector.send(make_reply())

    assert force_flags(fake) == [False, False, True]
    assert [r["errcode"] for r in sends(fake)] == [0, 40001, 0]
    assert fake.sent[0]["token"] != fake.sent[1]["token"]


def test_server_that_keeps_answering_40001_fails_loudly_after_one_retry(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connector = make_connector()
    fake.fail_next(40001, count=50)

    with pytest.raises(TransientError) as caught:
        connector.send(make_reply())

    assert caught.value.code == "40001"
    assert "freshly fetched access token" in caught.value.reason
    assert len(sends(fake)) == 2
    assert fake.sent == []


def test_refresh_takes_the_token_another_worker_already_refreshed(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    first, second = make_connector(), make_connector()
    old = first.tokens.get()
    fake.revoke_tokens()
    new = first.tokens.refresh(rejected=old)

    assert second.tokens.refresh(rejected=old) == new
    assert len(fake.token_calls()) == 2


def test_without_redis_the_token_is_cached_in_the_process(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connector = make_connector(redis_at=None)

    connector.send(make_reply())
    connector.send(make_reply())

    assert isinstance(connector.tokens.store, LocalStore)
    assert len(fake.token_calls()) == 1


def test_unreachable_redis_is_a_transient_failure(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    connector = make_connector(redis_at="redis://127.0.0.1:1/0")

    with pytest.raises(TransientError, match="Redis"):
        connector.send(make_reply())

    assert fake.requests == []


def test_unreadable_cache_entry_is_fetched_again(fake: FakeWeChat) -> None:
    store = LocalStore()
    store.set("omnidesk:wechat:wx0123456789abcdef:access_token", "{not json", px=1000)
    cache = TokenCache(store, APP_ID, lambda force: ("fresh-token", 7200))

    assert cache.get() == "fresh-token"


# -- check(): the connection test of the admin console ------------------------------------------


def test_check_fetches_a_token_with_the_configured_credentials(
    fake: FakeWeChat, make_connector: MakeConnector
) -> None:
    make_connector().check()

    assert json.loads(fake.token_calls()[0]["body"])["secret"] == SECRET


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        pytest.param({"app_secret": "f" * 32}, "app_secret", id="wrong_secret_40001"),
        pytest.param({"app_id": "wxffffffffffffffff"}, "app_id", id="unknown_appid_40013"),
    ],
)
def test_check_maps_refused_credentials_to_invalid_auth_on_the_field(
    make_connector: MakeConnector, keys: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidAuth) as caught:
        make_connector(**keys).check()

    assert caught.value.field == field
    assert SECRET not in str(caught.value)
    assert "f" * 32 not in str(caught.value)


def test_check_maps_an_ip_outside_the_whitelist_to_cannot_connect(
    make_connector: MakeConnector,
) -> None:
    guarded = FakeWeChat(APP_ID, SECRET, token="abc", ip_whitelist={"10.1.2.3"})
    with guarded, pytest.raises(CannotConnect, match="40164"):
        make_connector(api_base_url=guarded.base_url).check()


@pytest.mark.parametrize("broken", ["garble", "unreachable"])
def test_check_maps_an_unusable_answer_to_cannot_connect(
    fake: FakeWeChat, make_connector: MakeConnector, broken: str
) -> None:
    fake.garble_next(path=STABLE_TOKEN_PATH)
    base = "http://127.0.0.1:1" if broken == "unreachable" else fake.base_url

    with pytest.raises(CannotConnect):
        make_connector(api_base_url=base).check()


def test_send_with_a_wrong_secret_fails_with_a_reason_for_the_admin(
    make_connector: MakeConnector,
) -> None:
    with pytest.raises(PermanentSendError) as caught:
        make_connector(app_secret="f" * 32).send(make_reply())

    assert caught.value.code == "40001"
    assert "app_secret" in caught.value.reason
