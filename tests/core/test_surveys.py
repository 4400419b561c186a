"""Surveys on a real database: the rating reader, the send rules, answers, follow-ups and links."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlmodel import Session, col, select

from omnidesk import config_file
from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.errors import ConfigError
from omnidesk.models import (
    ConnectorRecord,
    Customer,
    Direction,
    Event,
    FollowUp,
    Identity,
    Message,
    Request,
    RequestStatus,
    Survey,
    SurveyStatus,
)
from omnidesk.services import events, follow_ups, respond, surveys
from omnidesk.services.answers import Answerer
from omnidesk.services.pipeline import SEND
from omnidesk.services.ratings import is_negative, parse_rating
from omnidesk.services.survey_links import ExpiredLink, InvalidLink, LinkSigner
from omnidesk.settings import Settings

pytestmark = pytest.mark.clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI)  # a Wednesday
CUSTOMER = "+8613800138000"
OPENID = "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"
DESK = """
[[teams]]
name = "general"
lead = "wang"

[[agents]]
username = "wang"
role = "supervisor"
teams = ["general"]

[follow_up]
survey_delay = "{delay}"
quiet_hours = "{quiet}"
survey_every_days = {every}
complaint_follow_up_days = 3
"""


# -- reading an answer -------------------------------------------------------------------------

RATINGS = [
    ("5", (5, None)),
    ("１", (1, None)),
    ("５", (5, None)),
    ("4分", (4, None)),
    ("5/5", (5, None)),
    ("5 stars", (5, None)),
    ("评分：3", (3, None)),
    ("5 很好", (5, "很好")),
    ("5很好，谢谢", (5, "很好，谢谢")),
    ("1 退款太慢了", (1, "退款太慢了")),
    ("2. The agent was rude", (2, "The agent was rude")),
    ("非常满意", (5, None)),
    ("满意", (4, None)),
    ("我很满意", (5, None)),
    ("滿意", (4, None)),
    ("一般", (3, None)),
    ("不满意", (2, None)),
    ("非常不满意", (1, None)),
    ("很差", (1, None)),
    ("👍", (5, None)),
    ("👍🏻", (5, None)),
    ("👎", (1, None)),
    ("very good", (5, None)),
    ("Very good, thanks!", (5, "thanks!")),
    ("good", (4, None)),
    ("bad", (2, None)),
    ("terrible", (1, None)),
    ("not satisfied", (2, None)),
]
NOT_RATINGS = [
    "1234567890",
    "我的订单1234567890什么时候发货？",
    "Where is my order 1234567890?",
    "5号能到吗？",
    "3个订单都没到",
    "满意吗？",
    "good morning, I want to return my shoes",
    "不好意思，我想问一下退货地址",
    "好的",
    "goods not received",
    "6",
    "0",
    "3.5",
    "5:30",
    "1-2",
    "",
    "   ",
]


@pytest.mark.parametrize(("text", "expected"), RATINGS, ids=[r[0] for r in RATINGS])
def test_a_survey_answer_is_read_as_a_score_and_a_comment(text, expected):
    assert parse_rating(text, "zh") == expected


@pytest.mark.parametrize("text", NOT_RATINGS, ids=NOT_RATINGS)
def test_a_question_an_order_number_or_a_quantity_is_not_a_rating(text):
    assert parse_rating(text, "zh") is None


@pytest.mark.parametrize(
    ("comment", "negative"),
    [
        ("态度不好", True),
        ("物流太慢了", True),
        ("the agent was rude", True),
        ("很好", False),
        ("不错", False),
        ("not bad at all", False),
        ("没问题，谢谢", False),
        (None, False),
    ],
)
def test_a_complaining_comment_is_told_from_a_happy_one(comment, negative):
    assert is_negative(comment) is negative


# -- quiet hours -------------------------------------------------------------------------------

QUIET = (time(21, 0), time(9, 0))
QUIET_CASES = [
    ("22:30", QUIET, "next 09:00"),
    ("03:00", QUIET, "same 09:00"),
    ("09:00", QUIET, None),
    ("20:59", QUIET, None),
    ("12:30", (time(12, 0), time(14, 0)), "same 14:00"),
    ("14:00", (time(12, 0), time(14, 0)), None),
]


@pytest.mark.parametrize(("clock", "quiet", "expected"), QUIET_CASES)
def test_quiet_hours_wrap_past_midnight_and_end_at_their_end_time(clock, quiet, expected):
    hour, minute = (int(p) for p in clock.split(":"))
    now = NOON.replace(hour=hour, minute=minute)
    until = surveys.survey_policy.quiet_until(now, quiet, SHANGHAI)
    if expected is None:
        assert until is None
        return
    day, hhmm = expected.split()
    local = until.astimezone(SHANGHAI)
    assert local.strftime("%H:%M") == hhmm
    assert local.date() == now.date() + timedelta(days=1 if day == "next" else 0)


def test_quiet_hours_and_delays_are_checked_when_the_file_is_read(tmp_path):
    path = tmp_path / "omnidesk.toml"
    path.write_text('[follow_up]\nsurvey_delay = "soon"\nquiet_hours = "21:00"\n')
    with pytest.raises(ConfigError) as error:
        config_file.load(path, {})
    assert "[follow_up].survey_delay" in str(error.value)
    assert "[follow_up].quiet_hours" in str(error.value)


# -- the send rules ----------------------------------------------------------------------------


@pytest.fixture
def policy(configure):
    """Write the desk file with these follow-up settings; returns the parsed config."""

    def write(delay: str = "0s", quiet: str = "", every: int = 30) -> config_file.DeskConfig:
        settings = configure(DESK.format(delay=delay, quiet=quiet, every=every))
        return Desk.load(settings).config

    return write


def resolved_request(
    settings: Settings,
    *,
    channel: str = "twilio",
    address: str = CUSTOMER,
    wrote_at: datetime | None = None,
    complaint_ref: str | None = None,
    language: str = "zh",
) -> int:
    """A request from `address`, resolved now; its customer last wrote at `wrote_at`."""
    kind = {"twilio": "phone", "wechat": "wechat", "email": "email"}[channel]
    wrote_at = wrote_at or datetime.now(UTC) - timedelta(minutes=5)
    with unit_of_work(settings) as session:
        connector = _connector(session, channel)
        ident = session.exec(select(Identity).where(Identity.address == address)).first()
        if ident is None:
            customer = Customer()
            session.add(customer)
            session.flush()
            ident = Identity(customer_id=customer.id, kind=kind, address=address)
            session.add(ident)
            session.flush()
        request = Request(
            customer_id=ident.customer_id,
            channel=channel,
            connector_id=connector.id,
            subject="退货",
            language=language,
            team="general",
            status=RequestStatus.RESOLVED,
            resolved_at=datetime.now(UTC),
            complaint_ref=complaint_ref,
        )
        session.add(request)
        session.flush()
        session.add(
            Message(
                connector_id=connector.id,
                channel=channel,
                direction=Direction.INBOUND,
                request_id=request.id,
                customer_id=ident.customer_id,
                identity_id=ident.id,
                sender=address,
                sender_kind=kind,
                recipient="desk",
                text="我要退货",
                provider_message_id=f"in-{request.id}",
                received_at=wrote_at,
            )
        )
        return request.id


def _connector(session: Session, channel: str) -> ConnectorRecord:
    name = f"tp-{channel}"
    found = session.exec(select(ConnectorRecord).where(ConnectorRecord.name == name)).first()
    if found is None:
        found = ConnectorRecord(name=name, channel=channel)
        session.add(found)
        session.flush()
    return found


def resolve(settings, config, request_id: int, now: datetime | None = None):
    with unit_of_work(settings) as session:
        request = session.get(Request, request_id)
        return surveys.on_resolved(session, request, config, now=now)


def decide(settings, config, survey_id: int, now: datetime | None = None):
    with unit_of_work(settings) as session:
        return surveys.send_one(session, survey_id, config, LinkSigner.from_settings(settings), now)


def the_survey(settings, request_id: int) -> Survey:
    with Session(get_engine(settings)) as session:
        stmt = select(Survey).where(Survey.request_id == request_id).order_by(col(Survey.id))
        return session.exec(stmt).all()[-1]


def events_of(settings, request_id: int, kind: str) -> list[dict]:
    with Session(get_engine(settings)) as session:
        stmt = select(Event).where(Event.request_id == request_id, Event.kind == kind)
        return [e.data for e in session.exec(stmt.order_by(col(Event.id)))]


def test_without_delay_the_survey_is_queued_at_once_as_a_short_sms(settings, policy):
    config = policy(delay="0s")
    request_id = resolved_request(settings)

    [task] = resolve(settings, config, request_id)
    [send] = decide(settings, config, task.message_id)

    assert (task.stage, send.stage) == (surveys.SURVEY, SEND)
    with Session(get_engine(settings)) as session:
        message = session.get(Message, send.message_id)
    assert (message.kind, message.recipient, message.status) == ("survey", CUSTOMER, "pending")
    assert f"#{request_id}" in message.text
    assert "1-5" in message.text
    survey = the_survey(settings, request_id)
    assert survey.status == SurveyStatus.SENT
    assert events_of(settings, request_id, "survey_sent") == [
        {"channel": "twilio", "survey_id": survey.id}
    ]


def test_a_delayed_survey_waits_until_it_is_due(settings, policy):
    config = policy(delay="1h")
    request_id = resolved_request(settings)
    now = datetime.now(UTC)

    assert resolve(settings, config, request_id, now) == []
    with unit_of_work(settings) as session:
        early = surveys.send_due(session, config, None, now + timedelta(minutes=59))
    with unit_of_work(settings) as session:
        due = surveys.send_due(session, config, None, now + timedelta(hours=1))

    assert early == []
    assert [t.stage for t in due] == [SEND]


def test_a_survey_due_in_quiet_hours_waits_for_their_end_in_the_teams_time_zone(settings, policy):
    config = policy(delay="0s", quiet="21:00-09:00")
    request_id = resolved_request(settings)
    late_evening = NOON.replace(hour=22, minute=30)
    [task] = resolve(settings, config, request_id, late_evening)

    assert decide(settings, config, task.message_id, late_evening) == []
    survey = the_survey(settings, request_id)
    assert survey.status == SurveyStatus.SCHEDULED
    assert survey.scheduled_for == NOON.replace(hour=9, minute=0) + timedelta(days=1)
    [deferred] = events_of(settings, request_id, "survey_deferred")
    assert deferred["reason"] == "quiet_hours"
    next_morning = survey.scheduled_for
    assert [t.stage for t in decide(settings, config, survey.id, next_morning)] == [SEND]


def test_a_customer_surveyed_within_survey_every_days_is_not_asked_again(settings, policy):
    config = policy(delay="0s", every=30)
    first, second = resolved_request(settings), resolved_request(settings)
    for request_id in (first, second):
        [task] = resolve(settings, config, request_id)
        decide(settings, config, task.message_id)

    assert the_survey(settings, first).status == SurveyStatus.SENT
    assert the_survey(settings, second).status == SurveyStatus.SKIPPED
    assert events_of(settings, second, "survey_skipped")[0]["reason"] == "surveyed_recently"


def test_survey_every_days_zero_means_no_limit(settings, policy):
    config = policy(delay="0s", every=0)
    for request_id in (resolved_request(settings), resolved_request(settings)):
        [task] = resolve(settings, config, request_id)
        assert [t.stage for t in decide(settings, config, task.message_id)] == [SEND]


def test_a_customer_who_opted_out_is_never_surveyed(settings, policy):
    config = policy(delay="0s")
    request_id = resolved_request(settings)
    with unit_of_work(settings) as session:
        ident = session.exec(select(Identity).where(Identity.address == CUSTOMER)).one()
        ident.opted_out = True
        session.add(ident)

    [task] = resolve(settings, config, request_id)

    assert decide(settings, config, task.message_id) == []
    assert the_survey(settings, request_id).skip_reason == "opted_out"


def test_a_request_reopened_before_its_survey_is_due_is_not_surveyed(settings, policy):
    config = policy(delay="1h")
    request_id = resolved_request(settings)
    now = datetime.now(UTC)
    resolve(settings, config, request_id, now)
    with unit_of_work(settings) as session:
        session.get(Request, request_id).status = RequestStatus.OPEN

    with unit_of_work(settings) as session:
        assert surveys.send_due(session, config, None, now + timedelta(hours=2)) == []
    assert the_survey(settings, request_id).skip_reason == "reopened"


@pytest.mark.parametrize(
    ("wrote_hours_ago", "sent"), [(47, True), (49, False)], ids=["within-48h", "after-48h"]
)
def test_a_wechat_survey_goes_only_within_48_hours_of_the_customers_last_message(
    settings, policy, wrote_hours_ago, sent
):
    config = policy(delay="0s")
    wrote_at = datetime.now(UTC) - timedelta(hours=wrote_hours_ago)
    request_id = resolved_request(settings, channel="wechat", address=OPENID, wrote_at=wrote_at)

    [task] = resolve(settings, config, request_id)
    tasks = decide(settings, config, task.message_id)

    assert bool(tasks) is sent
    if not sent:
        assert the_survey(settings, request_id).status == SurveyStatus.SKIPPED
        [skipped] = events_of(settings, request_id, "survey_skipped")
        assert skipped["reason"] == "outside_reply_window"


def test_an_email_survey_carries_five_signed_links_in_the_customers_language(settings, policy):
    config = policy(delay="0s")
    request_id = resolved_request(
        settings, channel="email", address="li@example.com", language="en"
    )
    [task] = resolve(settings, config, request_id)
    [send] = decide(settings, config, task.message_id)

    with Session(get_engine(settings)) as session:
        message = session.get(Message, send.message_id)
    signer = LinkSigner.from_settings(settings)
    links = [w for w in message.text.split() if w.startswith(settings.public_url)]
    assert [link.rsplit("=", 1)[1] for link in links] == ["5", "4", "3", "2", "1"]
    token = links[0].split("/survey/")[1].split("?")[0]
    assert signer.read(token)[0] == the_survey(settings, request_id).id
    assert message.subject == f"How did we do? (request #{request_id})"
    assert message.html.count("<a href=") == 5


# -- answers and follow-ups --------------------------------------------------------------------


def sent_survey(settings, config, **request_options) -> Survey:
    request_id = resolved_request(settings, **request_options)
    [task] = resolve(settings, config, request_id)
    decide(settings, config, task.message_id)
    return the_survey(settings, request_id)


def answer(settings, survey_id: int, score: int, comment: str | None = None) -> bool:
    with unit_of_work(settings) as session:
        survey = session.get(Survey, survey_id)
        return surveys.record_answer(session, survey, score, comment, via="message")


def test_the_same_answer_twice_is_recorded_once_and_a_new_one_replaces_it(settings, policy):
    survey = sent_survey(settings, policy(delay="0s"))

    assert answer(settings, survey.id, 5, "很好") is True
    assert answer(settings, survey.id, 5, "很好") is False
    assert answer(settings, survey.id, 4, None) is True

    rated = events_of(settings, survey.request_id, "rated")
    assert [(r["score"], r["comment"]) for r in rated] == [(5, "很好"), (4, None)]
    assert rated[0]["survey_id"] == survey.id
    assert the_survey(settings, survey.request_id).score == 4


def test_a_low_rating_opens_one_follow_up_for_the_team_lead(settings, policy):
    survey = sent_survey(settings, policy(delay="0s"))

    answer(settings, survey.id, 1, "退款太慢了")
    answer(settings, survey.id, 2, "退款太慢了")

    with Session(get_engine(settings)) as session:
        [follow_up] = session.exec(select(FollowUp)).all()
    assert (follow_up.kind, follow_up.assignee, follow_up.team) == ("low_rating", "wang", "general")
    assert "退款太慢了" in follow_up.reason
    assert follow_up.request_id == survey.request_id


def test_a_good_score_with_a_complaining_comment_opens_a_follow_up_too(settings, policy):
    survey = sent_survey(settings, policy(delay="0s"))
    answer(settings, survey.id, 4, "物流太慢了")
    with Session(get_engine(settings)) as session:
        [follow_up] = session.exec(select(FollowUp)).all()
    assert follow_up.kind == "negative_comment"


def test_a_question_from_the_surveyed_customer_is_not_taken_as_an_answer(settings, policy):
    survey = sent_survey(settings, policy(delay="0s"))
    with unit_of_work(settings) as session:
        ident = session.get(Identity, survey.identity_id)
        question, rating = (
            Message(
                connector_id=survey.connector_id,
                channel="twilio",
                sender=CUSTOMER,
                direction=Direction.INBOUND,
                text=text,
            )
            for text in ("退货地址在哪？", "5")
        )
        session.add_all([question, rating])
        session.flush()
        assert surveys.answer_from_message(session, question, ident) is False
        assert surveys.answer_from_message(session, rating, ident) is True
        assert (rating.request_id, rating.automatic) == (survey.request_id, "survey_answer")
        assert question.request_id is None


def test_a_resolved_complaint_gets_a_follow_up_after_complaint_follow_up_days(settings, policy):
    config = policy(delay="1h")
    request_id = resolved_request(settings, complaint_ref="TS20261125000001")
    resolve(settings, config, request_id)
    now = datetime.now(UTC)

    def run(at: datetime) -> list[int]:
        with unit_of_work(settings) as session:
            return follow_ups.open_complaint_follow_ups(session, config, at)

    assert run(now + timedelta(days=2)) == []
    assert len(run(now + timedelta(days=3, minutes=1))) == 1
    assert run(now + timedelta(days=4)) == []
    with Session(get_engine(settings)) as session:
        [follow_up] = session.exec(select(FollowUp)).all()
    assert (follow_up.kind, follow_up.assignee) == ("complaint", "wang")
    assert "TS20261125000001" in follow_up.reason
    assert events_of(settings, request_id, "follow_up_scheduled")[0]["kind"] == "complaint"


# -- link tokens -------------------------------------------------------------------------------


def signer_for(tmp_path, key: str | None = "k" * 40, environment: str = "test") -> LinkSigner:
    settings = Settings(
        environment=environment,
        data_dir=tmp_path,
        public_url="https://desk.example",
        secret_key=SecretStr(key) if key else None,
    )
    return LinkSigner.from_settings(settings)


def test_a_genuine_link_is_read_and_a_tampered_one_is_refused(tmp_path):
    signer = signer_for(tmp_path)
    expires = datetime.now(UTC) + timedelta(days=7)
    token = signer.token(42, signer.new_token_id(), expires)
    survey_id, _, token_id, signature = token.split(".")

    assert signer.read(token)[0] == 42
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in (
        f"43.{token.split('.', 1)[1]}",  # another survey
        f"{survey_id}.{int(expires.timestamp()) + 86400}.{token_id}.{signature}",  # longer life
        ".".join([*token.split(".")[:3], flipped]),
        "not-a-token",
        "",
    ):
        with pytest.raises(InvalidLink):
            signer.read(forged)
    with pytest.raises(InvalidLink):
        signer_for(tmp_path, key="another key of forty characters at least!").read(token)


def test_an_expired_link_is_refused_as_expired(tmp_path):
    signer = signer_for(tmp_path)
    token = signer.token(42, signer.new_token_id(), datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(ExpiredLink):
        signer.read(token)


def test_links_signed_with_the_previous_key_still_work_after_a_rotation(tmp_path):
    old = signer_for(tmp_path, key="old key, long enough to be a passphrase")
    token = old.token(7, old.new_token_id(), datetime.now(UTC) + timedelta(days=1))
    rotated = signer_for(
        tmp_path,
        key="new key, long enough to be a passphrase,old key, long enough to be a passphrase",
    )
    assert rotated.read(token)[0] == 7


def test_development_installations_share_one_random_link_key_and_production_needs_one(tmp_path):
    first, second = signer_for(tmp_path, key=None), signer_for(tmp_path, key=None)
    assert first.keys == second.keys
    with pytest.raises(ConfigError):
        signer_for(tmp_path, key=None, environment="production")


def test_a_customer_confirming_an_automatic_answer_solved_it_is_surveyed_too(settings, policy):
    config = policy(delay="0s")
    request_id = resolved_request(settings)
    with unit_of_work(settings) as session:
        request = session.get(Request, request_id)
        request.status = RequestStatus.OPEN
        events.record(session, "auto_answered", request_id=request_id, source="knowledge")
        confirmation = Message(
            connector_id=request.connector_id, channel="twilio", direction=Direction.INBOUND,
            request_id=request_id, sender=CUSTOMER, text="问题解决了，谢谢",
        )  # fmt: skip
        session.add(confirmation)
        session.flush()
        tasks = respond.run(session, confirmation, config, Answerer(None, None, None))

    assert [t.stage for t in tasks] == [surveys.SURVEY]
    assert the_survey(settings, request_id).status == SurveyStatus.SCHEDULED
