"""Every installed connector keeps the contract (STYLE 10): typed config with hidden secrets,
a webhook that refuses an unsigned call and stores nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from omnidesk.connector import ConnectorEnv, load_registry
from omnidesk.db import get_engine
from omnidesk.models import Message

REGISTRY = load_registry()
SECRET = "do-not-show-this-secret-0123456789"

# A valid table per channel, with SECRET in every secret key. A new channel must add one here.
EXAMPLES: dict[str, dict[str, object]] = {
    "twilio": {
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "auth_token": SECRET,
        "from_number": "+15005550006",
    },
    "wechat": {"app_id": "wx0123456789abcdef", "app_secret": SECRET, "token": SECRET},
    "weibo": {"app_key": "1234567890", "app_secret": SECRET, "access_token": SECRET},
    "webchat": {"allowed_origins": ["https://shop.tp.example"], "identity_secret": SECRET},
    "email": {
        "imap_host": "imap.example.com",
        "username": "service@tp.example",
        "password": SECRET,
        "smtp_host": "smtp.example.com",
        "from_address": "TP <service@tp.example>",
    },
}
# Where each webhook connector's provider posts messages (relative to /webhooks/{name}).
INBOUND_PATHS = {"twilio": "/sms", "wechat": "/", "weibo": "/"}


def build(channel: str):
    cls = REGISTRY.get(channel)
    config = cls.config_class.model_validate(
        {"name": f"c-{channel}", "channel": channel, **EXAMPLES[channel]}
    )
    return cls(config, ConnectorEnv(public_url="http://127.0.0.1:1", data_dir=Path(".")))


CHANNELS = sorted(REGISTRY.classes)


def test_every_channel_has_an_example_here():
    assert set(CHANNELS) <= set(EXAMPLES), "add the new channel to EXAMPLES"


@pytest.mark.parametrize("channel", CHANNELS)
def test_channel_name_is_one_spelling_everywhere(channel):
    cls = REGISTRY.get(channel)
    assert cls.channel == channel
    assert cls.config_class.model_fields["channel"].default == channel
    assert cls.__module__.split(".")[1] == channel


@pytest.mark.parametrize("channel", CHANNELS)
def test_secrets_are_secret_str_and_never_shown(channel):
    connector = build(channel)
    config = connector.config
    secrets = [k for k, v in config if isinstance(v, SecretStr)]
    assert secrets, "a connector without secrets is unusual: mark its secret keys SecretStr"
    assert SECRET not in repr(config)
    assert SECRET not in str(config.redacted())
    assert SECRET not in repr(connector)


@pytest.mark.parametrize("channel", CHANNELS)
def test_unknown_keys_are_refused(channel):
    cls = REGISTRY.get(channel)
    with pytest.raises(ValueError, match="surprise"):
        cls.config_class.model_validate(
            {"name": "x", "channel": channel, **EXAMPLES[channel], "surprise": 1}
        )


WEBHOOK_CHANNELS = [c for c in CHANNELS if hasattr(REGISTRY.get(c), "webhooks")]


@pytest.mark.parametrize("channel", WEBHOOK_CHANNELS)
def test_an_unsigned_webhook_is_refused_and_nothing_is_stored(settings, broker, channel):
    from omnidesk.api.app import create_app
    from tests.live import LiveServer

    table = {"name": f"c-{channel}", "channel": channel, **EXAMPLES[channel]}
    lines = [f'{k} = "{v}"' for k, v in table.items()]
    settings.config.write_text("[[connectors]]\n" + "\n".join(lines) + "\n")
    server = LiveServer(create_app(settings), int(settings.public_url.rsplit(":", 1)[1])).start()
    try:
        url = f"{settings.public_url}/webhooks/c-{channel}{INBOUND_PATHS[channel]}"
        response = httpx.post(
            url,
            content=b"From=%2B8613800138000&Body=hi",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    finally:
        server.stop()
    assert response.status_code == 403
    with Session(get_engine(settings)) as session:
        assert session.exec(select(Message)).all() == []
