"""An agent's category change becomes training data; retraining uses it and records the outcome."""

from __future__ import annotations

import shutil

import pytest
from sqlmodel import Session, select

from omnidesk.db import get_engine, unit_of_work
from omnidesk.models import Correction, Customer, Event, Message, Request
from omnidesk.services import corrections
from omnidesk.triage.config import load_config


@pytest.fixture
def model_dir(tmp_path, triage_model_dir):
    copy = tmp_path / "triage"
    shutil.copytree(triage_model_dir, copy)
    return copy


def make_request(settings, text: str, category: str) -> int:
    from omnidesk.models import ConnectorRecord

    with unit_of_work(settings) as session:
        connector = session.exec(select(ConnectorRecord)).first() or ConnectorRecord(
            name="c", channel="twilio"
        )
        customer = Customer()
        session.add_all([connector, customer])
        session.flush()
        request = Request(customer_id=customer.id, channel="twilio", connector_id=connector.id,
                          category=category, language="zh")
        session.add(request)
        session.flush()
        session.add(Message(connector_id=connector.id, channel="twilio", direction="inbound",
                            request_id=request.id, text=text))
        return request.id


def test_recategorising_keeps_a_correction_and_an_event(settings, model_dir):
    request_id = make_request(settings, "积分怎么兑换优惠券？", "other")
    with unit_of_work(settings) as session:
        correction = corrections.recategorise(session, request_id, "account", "wang",
                                              load_config(), model_dir)
        again = corrections.recategorise(session, request_id, "account", "wang", load_config())
    assert again is None
    with Session(get_engine(settings)) as session:
        stored = session.exec(select(Correction)).one()
        request = session.get(Request, request_id)
        event = session.exec(select(Event).where(Event.kind == "recategorised")).one()
    assert (stored.text, stored.from_category, stored.to_category) == ("积分怎么兑换优惠券？",
                                                                        "other", "account")
    assert stored.model_version == correction.model_version == "v0001"
    assert request.category == "account"
    assert event.actor == "wang"


def test_an_unknown_category_is_refused_with_the_known_ones(settings):
    request_id = make_request(settings, "hi", "other")
    with unit_of_work(settings) as session, pytest.raises(ValueError, match="known: order"):
        corrections.recategorise(session, request_id, "shipping", "wang", load_config())


def test_retraining_uses_the_corrections_and_marks_them(settings, model_dir):
    for n in range(5):
        request_id = make_request(settings, f"积分第{n}次兑换失败了怎么办", "other")
        with unit_of_work(settings) as session:
            corrections.recategorise(session, request_id, "account", "wang", load_config())
    with unit_of_work(settings) as session:
        assert corrections.untrained(session) == 5
    result = corrections.retrain_with_corrections(settings, model_dir, load_config())
    assert result.corrections_used == 5
    with Session(get_engine(settings)) as session:
        trained = {c.trained_in for c in session.exec(select(Correction))}
        event = session.exec(select(Event).where(Event.kind == "classifier_trained")).one()
    assert trained == ({result.version} if result.activated else {None})
    assert event.data["version"] == result.version
