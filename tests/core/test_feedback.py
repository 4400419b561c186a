"""Agents' feedback tags on resolved requests: configurable lists, events, the request's record."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from omnidesk import config_file
from omnidesk.db import get_engine, unit_of_work
from omnidesk.errors import ConfigError
from omnidesk.models import Event, Request, RequestStatus
from omnidesk.services import feedback, queries
from tests.core.test_surveys import resolved_request

CUSTOM = """
[feedback]
resolutions = ["refunded", {key = "voucher", zh = "发放优惠券", en = "Voucher"}]
root_causes = ["logistics_delay", "courier_damage"]
"""


def tag(settings, request_id: int, config=None, **values) -> Event | None:
    config = config or config_file.load(settings.config)
    values = {"resolution": "refunded", "root_cause": "logistics_delay", "note": None} | values
    with unit_of_work(settings) as session:
        return feedback.tag_request(session, request_id, actor="amy", config=config, **values)


def tagged_events(settings, request_id: int) -> list[Event]:
    with Session(get_engine(settings)) as session:
        stmt = select(Event).where(Event.request_id == request_id)
        return [e for e in session.exec(stmt) if e.kind == "feedback_tagged"]


def test_a_resolved_request_is_tagged_with_an_event_the_reports_read(settings):
    request_id = resolved_request(settings)

    tag(settings, request_id, note="快递延误三天")

    [event] = tagged_events(settings, request_id)
    assert event.actor == "amy"
    assert event.data == {
        "resolution": "refunded",
        "root_cause": "logistics_delay",
        "note": "快递延误三天",
    }


def test_a_label_in_either_language_names_its_key(settings):
    request_id = resolved_request(settings)
    tag(settings, request_id, resolution="已退款", root_cause="Logistics Delay")
    [event] = tagged_events(settings, request_id)
    assert (event.data["resolution"], event.data["root_cause"]) == ("refunded", "logistics_delay")


def test_the_same_tag_twice_is_one_event_and_a_new_one_is_the_current_tag(settings):
    request_id = resolved_request(settings)

    assert tag(settings, request_id) is not None
    assert tag(settings, request_id) is None
    assert tag(settings, request_id, root_cause="product_defect") is not None

    with Session(get_engine(settings)) as session:
        current = feedback.current_tag(session, request_id)
    assert current["root_cause"] == "product_defect"
    assert len(tagged_events(settings, request_id)) == 2


def test_an_unknown_root_cause_is_refused_with_the_known_ones(settings):
    request_id = resolved_request(settings)
    with pytest.raises(ValueError, match="unknown root cause 'weather'") as error:
        tag(settings, request_id, root_cause="weather")
    assert "logistics_delay" in str(error.value)
    assert tagged_events(settings, request_id) == []


def test_an_open_request_cannot_be_tagged_yet(settings):
    request_id = resolved_request(settings)
    with unit_of_work(settings) as session:
        session.get(Request, request_id).status = RequestStatus.OPEN
    with pytest.raises(ValueError, match="once it is resolved"):
        tag(settings, request_id)


def test_the_lists_come_from_the_feedback_section(settings, configure):
    configure(CUSTOM)
    config = config_file.load(settings.config)
    request_id = resolved_request(settings)

    tag(settings, request_id, config=config, resolution="发放优惠券", root_cause="courier_damage")

    assert [c.key for c in config.feedback.resolutions] == ["refunded", "voucher"]
    assert config.feedback.resolutions[0].zh == "已退款"  # a known key keeps its labels
    with pytest.raises(ValueError, match="unknown resolution"):
        tag(settings, request_id, config=config, resolution="replaced")


def test_a_feedback_list_with_a_duplicate_key_is_a_config_error(tmp_path):
    path = tmp_path / "omnidesk.toml"
    path.write_text('[feedback]\nroot_causes = ["other", "other"]\n')
    with pytest.raises(ConfigError, match=r"\[feedback\]\.root_causes"):
        config_file.load(path, {})


def test_requests_show_gives_the_tag_and_the_rating(settings):
    request_id = resolved_request(settings)
    tag(settings, request_id, note="退款已到账")
    with Session(get_engine(settings)) as session:
        record = queries.show_request(session, request_id)
    assert record["feedback"]["tag"]["note"] == "退款已到账"
    assert record["feedback"]["rating"] is None
    assert record["feedback"]["follow_ups"] == []
