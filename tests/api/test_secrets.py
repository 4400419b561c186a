"""Secrets at rest: every SecretStr of a connector's config is sealed with the installation key."""

from __future__ import annotations

import json
import stat

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from connectors.twilio.config import TwilioConfig
from connectors.wechat.config import WeChatConfig
from omnidesk import secrets
from omnidesk.db import unit_of_work
from omnidesk.errors import ConfigError
from omnidesk.models import ConnectorRecord, ConnectorState
from omnidesk.services import console_connectors
from omnidesk.settings import Settings
from tests.factories import TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN


def config() -> TwilioConfig:
    return TwilioConfig(
        name="sms", account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, from_number=TWILIO_NUMBER
    )


def keyed(tmp_path, key: str | None, environment: str = "test") -> Settings:
    return Settings(
        environment=environment,
        data_dir=tmp_path / "var",
        secret_key=SecretStr(key) if key else None,
    )


def test_every_secret_field_is_found_also_when_optional():
    assert secrets.secret_fields(TwilioConfig) == ("auth_token",)
    assert set(secrets.secret_fields(WeChatConfig)) == {
        "app_secret",
        "token",
        "encoding_aes_key",
        "previous_encoding_aes_key",
    }


def test_a_sealed_config_holds_no_secret_and_opens_to_the_same_config(tmp_path):
    fernet = secrets.cipher(keyed(tmp_path, Fernet.generate_key().decode()))

    sealed = secrets.seal(fernet, config())

    assert TWILIO_TOKEN not in json.dumps(sealed)
    assert sealed["account_sid"] == TWILIO_SID
    opened = TwilioConfig.model_validate(secrets.unseal(fernet, TwilioConfig, sealed))
    assert opened == config()


def test_a_passphrase_works_as_a_key_and_a_short_one_is_refused(tmp_path):
    fernet = secrets.cipher(keyed(tmp_path, "x" * 40))
    assert secrets.decrypt(fernet, secrets.encrypt(fernet, "s3cret")) == "s3cret"
    with pytest.raises(ConfigError, match="at least 32 characters"):
        secrets.cipher(keyed(tmp_path, "too-short"))


def test_keys_rotate_the_first_encrypts_and_every_one_decrypts(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = secrets.encrypt(secrets.cipher(keyed(tmp_path, old)), "s3cret")

    rotated = secrets.cipher(keyed(tmp_path, f"{new},{old}"))

    assert secrets.decrypt(rotated, sealed) == "s3cret"
    with pytest.raises(secrets.SecretsError, match="OMNIDESK_SECRET_KEY"):
        secrets.decrypt(secrets.cipher(keyed(tmp_path, new)), sealed)


def test_production_refuses_to_start_without_a_key(tmp_path):
    with pytest.raises(ConfigError, match="OMNIDESK_SECRET_KEY is not set"):
        secrets.cipher(keyed(tmp_path, None, environment="production"))


def test_development_keeps_a_private_key_file_in_the_data_dir_and_warns(tmp_path, capsys):
    first = secrets.cipher(keyed(tmp_path, None, environment="development"))
    sealed = secrets.encrypt(first, "s3cret")
    secrets._ciphers.clear()  # a new process

    again = secrets.cipher(keyed(tmp_path, None, environment="development"))

    assert secrets.decrypt(again, sealed) == "s3cret"
    key_file = tmp_path / "var" / secrets.DEV_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "secret_key_missing" in capsys.readouterr().out


def test_a_console_connector_sealed_with_another_key_is_marked_error_not_fatal(settings):
    other = secrets.cipher(
        keyed(settings.data_dir.parent / "elsewhere", Fernet.generate_key().decode())
    )
    with unit_of_work(settings) as session:
        session.add(
            ConnectorRecord(
                name="sms", channel="twilio", source="console", config=secrets.seal(other, config())
            )
        )
    from omnidesk.desk import Desk

    desk = Desk.load(settings)
    console_connectors.load_into(desk)

    assert "sms" not in desk.connectors
    with unit_of_work(settings) as session:
        record = session.get(ConnectorRecord, desk.ids["sms"])
    assert record.state == ConnectorState.ERROR
    assert "OMNIDESK_SECRET_KEY" in (record.state_reason or "")
