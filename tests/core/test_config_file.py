"""The TOML config file: ${ENV} secrets, each channel's schema, every error reported at once."""

from __future__ import annotations

import pytest

from omnidesk import config_file
from omnidesk.desk import Desk
from omnidesk.errors import ConfigError
from tests.factories import TWILIO_SID

TWILIO = """
[[connectors]]
name = "tp-sms"
channel = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "${TWILIO_AUTH_TOKEN}"
from_number = "+15005550006"
"""


def test_secret_references_are_filled_from_the_environment(tmp_path):
    path = tmp_path / "omnidesk.toml"
    path.write_text(TWILIO)
    config = config_file.load(path, {"TWILIO_AUTH_TOKEN": "s3cret"})
    assert config.connectors[0]["auth_token"] == "s3cret"


def test_a_missing_environment_variable_names_the_connector_and_the_key(tmp_path):
    path = tmp_path / "omnidesk.toml"
    path.write_text(TWILIO)
    with pytest.raises(ConfigError) as error:
        config_file.load(path, {})
    assert "connectors[0] (tp-sms).auth_token" in str(error.value)
    assert "TWILIO_AUTH_TOKEN" in str(error.value)


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "omnidesk.toml"
    path.write_text("[[connectors]\nname=")
    with pytest.raises(ConfigError, match="omnidesk.toml"):
        config_file.load(path, {})


def test_a_missing_default_file_means_no_connectors_but_an_explicit_one_is_an_error(tmp_path):
    assert config_file.load(tmp_path / "absent.toml", {}).connectors == []
    with pytest.raises(ConfigError, match="not found"):
        config_file.load(tmp_path / "absent.toml", {}, required=True)


CONNECTOR_CASES = [
    pytest.param({}, None, id="valid"),
    pytest.param({"account_sid": "AC123"}, "account_sid", id="bad-account-sid"),
    pytest.param({"from_number": "15005550006"}, "from_number", id="from-not-e164"),
    pytest.param({"auth_tokn": "x"}, "auth_tokn", id="typo-is-an-error"),
    pytest.param({"channel": "telegram"}, "unknown channel", id="unknown-channel"),
    pytest.param({"name": "TP SMS"}, "name", id="bad-name"),
    pytest.param({"api_base_url": "ftp://x"}, "api_base_url", id="bad-api-url"),
]


@pytest.mark.parametrize(("override", "error"), CONNECTOR_CASES)
def test_connector_tables_are_checked_by_their_channel_schema(settings, override, error):
    table = {
        "name": "tp-sms",
        "channel": "twilio",
        "account_sid": TWILIO_SID,
        "auth_token": "tok",
        "from_number": "+15005550006",
        **override,
    }
    lines = [f'{k} = "{v}"' for k, v in table.items()]
    settings.config.write_text("[[connectors]]\n" + "\n".join(lines) + "\n")
    if error is None:
        desk = Desk.load(settings)
        assert list(desk.connectors) == ["tp-sms"]
        return
    with pytest.raises(ConfigError) as raised:
        Desk.load(settings)
    assert error in str(raised.value)
    assert "tok" not in str(raised.value).replace("auth_tok", "")


def test_two_connectors_on_one_account_and_number_are_refused(settings):
    settings.config.write_text(
        TWILIO.replace("${TWILIO_AUTH_TOKEN}", "t")
        + TWILIO.replace("tp-sms", "tp-sms-2").replace("${TWILIO_AUTH_TOKEN}", "t")
    )
    with pytest.raises(ConfigError, match="already_configured"):
        Desk.load(settings)


def test_every_error_of_the_file_is_reported_at_once(settings):
    settings.config.write_text(
        TWILIO.replace('"+15005550006"', '"nope"').replace("${TWILIO_AUTH_TOKEN}", "t")
        + TWILIO.replace("tp-sms", "tp-sms-2")
        .replace("AC0123", "XX0123")
        .replace("${TWILIO_AUTH_TOKEN}", "t")
    )
    with pytest.raises(ConfigError) as raised:
        Desk.load(settings)
    text = str(raised.value)
    assert "connectors[0] (tp-sms).from_number" in text
    assert "connectors[1] (tp-sms-2).account_sid" in text


def test_the_shipped_example_config_is_valid(tmp_path):
    from pathlib import Path

    config = config_file.load(Path(__file__).parents[2] / "config" / "omnidesk.toml", {})
    assert config.routing.default_team == "general"
    assert {t.name for t in config.teams} >= {"orders", "complaints"}
