"""Twilio errors mapped to transient (retry) or permanent (fail with the reason): ERROR_MATRIX."""

from __future__ import annotations

import pytest

from connectors.twilio.config import TwilioConfig
from connectors.twilio.connector import TwilioConnector
from omnidesk.connector import ConnectorEnv
from omnidesk.errors import PermanentSendError, TransientError
from omnidesk.outbound import OutboundReply
from tests.factories import CUSTOMER, TWILIO_NUMBER, TWILIO_SID, TWILIO_TOKEN

# (status, code) the fake answers → the error kind and code the connector raises.
ERROR_MATRIX = [
    pytest.param(500, 20500, TransientError, id="500"),
    pytest.param(503, 20503, TransientError, id="503"),
    pytest.param(429, 20429, TransientError, id="429-rate-limited"),
    pytest.param(400, 21211, PermanentSendError, id="21211-invalid-to"),
    pytest.param(400, 21610, PermanentSendError, id="21610-opted-out"),
    pytest.param(400, 21408, PermanentSendError, id="21408-region-disabled"),
    pytest.param(401, 20003, PermanentSendError, id="20003-bad-auth"),
]


def connector(base_url: str, token: str = TWILIO_TOKEN, timeout: float = 10.0) -> TwilioConnector:
    config = TwilioConfig(
        name="tp-sms",
        account_sid=TWILIO_SID,
        auth_token=token,
        from_number=TWILIO_NUMBER,
        api_base_url=base_url,
        status_callbacks=False,
    )
    env = ConnectorEnv(
        public_url="http://127.0.0.1:1",
        data_dir=__import__("pathlib").Path("."),
        http_timeout=timeout,
    )
    return TwilioConnector(config, env)


def reply(to: str = CUSTOMER) -> OutboundReply:
    return OutboundReply(message_id=1, request_id=1, to=to, text="已收到")


@pytest.mark.parametrize(("status", "code", "kind"), ERROR_MATRIX)
def test_error_matrix_over_the_wire(fake_twilio, status, code, kind):
    fake_twilio.fail_next(status, code, message="scripted")
    with pytest.raises(kind) as raised:
        connector(fake_twilio.base_url).send(reply())
    if kind is PermanentSendError:
        assert raised.value.code == str(code)


def test_a_refused_number_is_permanent_without_a_script(fake_twilio):
    with pytest.raises(PermanentSendError) as raised:
        connector(fake_twilio.base_url).send(reply(to="10086"))
    assert raised.value.code == "21211"


def test_a_wrong_auth_token_is_permanent(fake_twilio):
    with pytest.raises(PermanentSendError) as raised:
        connector(fake_twilio.base_url, token="wrong").send(reply())
    assert raised.value.code == "20003"


def test_a_timeout_is_transient(fake_twilio):
    fake_twilio.hang_next(2.0)
    with pytest.raises(TransientError):
        connector(fake_twilio.base_url, timeout=0.5).send(reply())


def test_an_unreachable_twilio_is_transient():
    with pytest.raises(TransientError):
        connector("http://127.0.0.1:9").send(reply())


def test_a_successful_send_returns_the_message_sid(fake_twilio):
    result = connector(fake_twilio.base_url).send(reply())
    assert result.provider_message_id.startswith("SM")
    assert fake_twilio.messages[0]["body"] == "已收到"


def test_an_interrupted_send_is_found_at_twilio_and_not_repeated(fake_twilio):
    twilio = connector(fake_twilio.base_url)
    sent = twilio.send(reply())
    assert twilio.find_sent(reply()).provider_message_id == sent.provider_message_id
    assert twilio.find_sent(reply(to="+8613900000000")) is None
