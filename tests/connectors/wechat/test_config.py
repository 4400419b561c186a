"""The keys of a WeChat connector table: valid tables, refused ones, modes and hidden secrets."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.wechat.config import WeChatConfig
from tests.connectors.wechat.conftest import AES_KEY, APP_ID, SECRET, TOKEN

BASE = {"name": "tp-wechat", "channel": "wechat", "app_id": APP_ID, "app_secret": SECRET,
        "token": TOKEN}  # fmt: skip

CONFIG_CASES = [
    pytest.param({}, None, id="plaintext_mode"),
    pytest.param({"encoding_aes_key": AES_KEY}, None, id="safe_mode"),
    pytest.param({"encoding_aes_key": ""}, None, id="empty_key_means_plaintext"),
    pytest.param({"encoding_aes_key": AES_KEY, "previous_encoding_aes_key": "A" * 43}, None,
                 id="key_rotation"),
    pytest.param({"api_base_url": "http://127.0.0.1:9200"}, None, id="local_fake"),
    pytest.param({"app_id": "wx0123456789ABCDEF"}, "app_id", id="app_id_upper_case"),
    pytest.param({"app_id": "gh_97417a04a28d"}, "app_id", id="original_id_instead_of_app_id"),
    pytest.param({"encoding_aes_key": AES_KEY[:-1]}, "encoding_aes_key", id="key_too_short"),
    pytest.param({"encoding_aes_key": AES_KEY[:-1] + "="}, "encoding_aes_key", id="key_base64_pad"),
    pytest.param({"previous_encoding_aes_key": AES_KEY}, "previous_encoding_aes_key",
                 id="previous_key_without_current"),
    pytest.param({"token": "a b"}, "token", id="token_with_space"),
    pytest.param({"app_secret": ""}, "app_secret", id="empty_secret"),
    pytest.param({"api_base_url": "api.weixin.qq.com"}, "api_base_url", id="url_without_scheme"),
    pytest.param({"max_clock_skew_seconds": 5}, "max_clock_skew_seconds", id="skew_too_small"),
    pytest.param({"appsecret": SECRET}, "appsecret", id="typo_is_an_error"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "error_key"), CONFIG_CASES)
def test_config_table_is_valid_or_names_the_wrong_key(
    overrides: dict[str, Any], error_key: str | None
) -> None:
    table = BASE | overrides
    if error_key is None:
        WeChatConfig.model_validate(table)
        return
    with pytest.raises(ValidationError) as caught:
        WeChatConfig.model_validate(table)
    locations = {str(error["loc"][0]) for error in caught.value.errors() if error["loc"]}
    messages = " ".join(error["msg"] for error in caught.value.errors())
    assert error_key in locations or error_key in messages


def test_mode_follows_the_aes_key() -> None:
    plain = WeChatConfig.model_validate(BASE)
    safe = WeChatConfig.model_validate(
        BASE | {"encoding_aes_key": AES_KEY, "previous_encoding_aes_key": "A" * 43}
    )

    assert (plain.safe_mode, plain.aes_keys()) == (False, ())
    assert (safe.safe_mode, safe.aes_keys()) == (True, (AES_KEY, "A" * 43))


def test_secrets_never_show_and_the_account_is_the_app_id() -> None:
    config = WeChatConfig.model_validate(BASE | {"encoding_aes_key": AES_KEY})

    for secret in (SECRET, TOKEN, AES_KEY):
        assert secret not in repr(config)
        assert secret not in str(config.redacted())
    assert config.account_identity() == ("wechat", APP_ID)
    assert config.api_base_url == "https://api.weixin.qq.com"
    assert config.max_clock_skew_seconds == 300
