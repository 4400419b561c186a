"""Surveys end to end: real Redis, a worker, the API on its port, fake Twilio and fake WeChat.

An SMS request resolved from the command line is surveyed at once; "5" is its rating and opens
nothing, "1" opens a follow-up for the team lead. A phone request is surveyed by SMS. A WeChat
request resolved after its 48-hour window is not surveyed, and says why. Email links through
the live server: recorded once when clicked twice, 400 when altered, 410 when expired.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from connectors.wechat.inbound import parse, read_xml
from fakes.twilio import segments
from fakes.wechat import FakeWeChat, xml_of
from omnidesk import config_file
from omnidesk.db import get_engine, unit_of_work
from omnidesk.desk import Desk
from omnidesk.models import (
    Direction,
    Event,
    FollowUp,
    Message,
    Request,
    RequestStatus,
    Stage,
    Survey,
    SurveyStatus,
)
from omnidesk.services import surveys
from omnidesk.services.intake import DeskIntake
from omnidesk.services.status import set_status
from omnidesk.services.survey_links import LinkSigner
from omnidesk.settings import Settings
from tests import clock
from tests.core.test_surveys import resolved_request
from tests.factories import (
    CUSTOMER,
    TWILIO_NUMBER,
    TWILIO_TOKEN,
    WECHAT_OPENID,
    post_sms,
    twilio_toml,
    wait_until,
    wechat_toml,
)
from workers.dispatch import DramatiqDispatcher, dispatch_all

pytestmark = pytest.mark.clock

FOLLOW_UP = """
[[teams]]
name = "general"
lead = "wang"

[[agents]]
username = "wang"
role = "supervisor"
teams = ["general"]

[follow_up]
survey_delay = "0s"
quiet_hours = ""
"""
# The mount lines of cli_feedback, as cli.py carries them: `omnidesk requests tag`, `follow-ups`.
CLI = """
import typer
from omnidesk.cli_feedback import follow_ups_app, tag_command
app, requests_app = typer.Typer(), typer.Typer()
requests_app.command("tag")(tag_command)
app.add_typer(requests_app, name="requests")
app.add_typer(follow_ups_app, name="follow-ups")
app()
"""


@pytest.fixture
def sms_desk(configure, fake_twilio, monkeypatch) -> Settings:
    """One Twilio connector (`tp-sms`) at the fake Twilio, a lead, surveys at once."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    return configure(twilio_toml(fake_twilio.base_url) + FOLLOW_UP)


@pytest.fixture
def cli_env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "OMNIDESK_DATABASE_URL": settings.resolved_database_url,
        "OMNIDESK_DATA_DIR": str(settings.data_dir),
        "OMNIDESK_CONFIG": str(settings.config),
        "OMNIDESK_MODEL_DIR": str(settings.triage_model_dir),
        "OMNIDESK_REDIS_URL": str(settings.redis_url),
        "OMNIDESK_LOG_FORMAT": "json",
    }


def run_cli(env: dict[str, str], *args: str, module: bool = True) -> subprocess.CompletedProcess:
    """The command in a new process, its clock where this test's stands (tests/clock.py)."""
    return subprocess.run(
        clock.command(args) if module else clock.command(args, code=CLI),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rows(settings: Settings, model: type, *where: object) -> list:
    with Session(get_engine(settings)) as session:
        return list(session.exec(select(model).where(*where).order_by(col(model.id))))


def all_done(settings: Settings) -> bool:
    inbound = rows(settings, Message, Message.direction == Direction.INBOUND)
    return bool(inbound) and all(m.stage == Stage.DONE for m in inbound)


def kinds(settings: Settings, request_id: int) -> list[str]:
    return [e.kind for e in rows(settings, Event, Event.request_id == request_id)]


def resolve(settings: Settings, request_id: int) -> None:
    """An agent resolves the request (as the API does): commit, then enqueue the work."""
    config = config_file.load(settings.config)
    with unit_of_work(settings) as session:
        tasks = set_status(session, request_id, RequestStatus.RESOLVED, "amy", config)
    dispatch_all(tasks)


def surveys_sent(fake_twilio) -> list[dict]:
    return [m for m in fake_twilio.messages if "1-5" in m["body"]]


def answered(settings: Settings) -> list[Survey]:
    return rows(settings, Survey, Survey.status == SurveyStatus.ANSWERED)


def sms_request_surveyed(settings: Settings, client, fake_twilio) -> Request:
    """Given an SMS request that was acknowledged, resolved and surveyed."""
    post_sms(client, "我要退货，鞋子尺码不对")
    wait_until(lambda: all_done(settings) and fake_twilio.messages)
    [request] = rows(settings, Request)
    resolve(settings, request.id)
    wait_until(lambda: surveys_sent(fake_twilio))
    return request


# -- SMS ---------------------------------------------------------------------------------------


def test_a_resolved_sms_request_is_surveyed_at_once_and_a_reply_5_is_its_rating(
    sms_desk, client, worker, fake_twilio, cli_env
):
    post_sms(client, "我要退货，鞋子尺码不对")
    wait_until(lambda: all_done(sms_desk) and len(fake_twilio.messages) == 1)
    [request] = rows(sms_desk, Request)

    # When an agent resolves it from the command line
    resolved = run_cli(cli_env, "requests", "resolve", str(request.id))
    assert resolved.returncode == 0, resolved.stderr

    # Then the survey reaches Twilio at once: to the customer, short, with the request number
    [survey_sms] = wait_until(lambda: surveys_sent(fake_twilio))
    assert (survey_sms["to"], survey_sms["from"]) == (CUSTOMER, TWILIO_NUMBER)
    assert f"#{request.id}" in survey_sms["body"]
    assert segments(survey_sms["body"]) <= 2

    # When the customer answers "5"
    post_sms(client, "5")
    wait_until(lambda: answered(sms_desk) and all_done(sms_desk))

    # Then it is the request's rating: no new request, no acknowledgement
    shown = run_cli(cli_env, "requests", "show", str(request.id), "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["feedback"]["rating"]["score"] == 5
    assert record["status"] == "resolved"
    assert len(rows(sms_desk, Request)) == 1
    assert len(fake_twilio.messages) == 2
    answer = rows(sms_desk, Message, Message.text == "5")[0]
    assert (answer.request_id, answer.automatic) == (request.id, "survey_answer")
    assert "rated" in kinds(sms_desk, request.id)
    assert "reopened" not in kinds(sms_desk, request.id)


def test_a_reply_1_opens_a_follow_up_for_the_team_lead_with_the_conversation(
    sms_desk, client, worker, fake_twilio, cli_env
):
    request = sms_request_surveyed(sms_desk, client, fake_twilio)

    post_sms(client, "1 退货等了好久，太慢了")
    [follow_up] = wait_until(lambda: rows(sms_desk, FollowUp))

    assert (follow_up.kind, follow_up.assignee, follow_up.request_id) == (
        "low_rating",
        "wang",
        request.id,
    )
    listed = run_cli(cli_env, "follow-ups", "list", "--json", module=False)
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    texts = [m["text"] for m in row["conversation"]]
    assert texts[0] == "我要退货，鞋子尺码不对"
    assert texts[-1] == "1 退货等了好久，太慢了"
    done = run_cli(
        cli_env, "follow-ups", "done", str(follow_up.id), "--actor", "wang", module=False
    )
    assert done.returncode == 0, done.stderr
    assert rows(sms_desk, FollowUp)[0].status == "done"


def test_a_question_after_the_survey_is_a_new_message_as_usual(
    sms_desk, client, worker, fake_twilio
):
    sms_request_surveyed(sms_desk, client, fake_twilio)

    post_sms(client, "另外，我的订单1234567890什么时候发货？")
    wait_until(lambda: len(rows(sms_desk, Request)) == 2 and all_done(sms_desk))

    assert answered(sms_desk) == []
    wait_until(lambda: len(fake_twilio.messages) == 3)  # the new request's acknowledgement


def test_an_agent_tags_the_resolved_request_from_the_command_line(
    sms_desk, client, worker, fake_twilio, cli_env
):
    request = sms_request_surveyed(sms_desk, client, fake_twilio)

    tagged = run_cli(
        cli_env,
        "requests",
        "tag",
        str(request.id),
        "--resolution",
        "replaced",
        "--root-cause",
        "物流延误",
        "--note",
        "换了大一码",
        module=False,
    )
    unknown = run_cli(
        cli_env,
        "requests",
        "tag",
        str(request.id),
        "--resolution",
        "replaced",
        "--root-cause",
        "weather",
        module=False,
    )

    assert tagged.returncode == 0, tagged.stderr
    [event] = rows(sms_desk, Event, Event.kind == "feedback_tagged")
    assert event.data == {
        "resolution": "replaced",
        "root_cause": "logistics_delay",
        "note": "换了大一码",
    }
    assert unknown.returncode == 1
    assert "unknown root cause" in unknown.stderr


def test_a_phone_request_is_surveyed_by_sms_to_the_caller(sms_desk, client, worker, fake_twilio):
    fake_twilio.call(
        f"{sms_desk.public_url}/webhooks/tp-sms/voice", CUSTOMER, TWILIO_NUMBER, speech="我要退货"
    )
    wait_until(lambda: all_done(sms_desk) and fake_twilio.messages)
    [request] = rows(sms_desk, Request)

    resolve(sms_desk, request.id)

    [survey_sms] = wait_until(lambda: surveys_sent(fake_twilio))
    assert (survey_sms["to"], survey_sms["from"]) == (CUSTOMER, TWILIO_NUMBER)
    assert request.channel == "twilio"


# -- WeChat ------------------------------------------------------------------------------------

OPENID = WECHAT_OPENID


@pytest.fixture
def wechat_desk(
    configure: Callable[[str], Settings], fake_wechat: FakeWeChat, wechat_env: None
) -> Settings:
    """A safe-mode WeChat connector (`tp-wechat`) at the fake WeChat, surveys at once."""
    return configure(wechat_toml(fake_wechat.base_url) + FOLLOW_UP)


def test_a_wechat_request_resolved_after_its_48_hour_window_is_not_surveyed_and_says_why(
    wechat_desk, worker, fake_wechat
):
    # Given a customer message that arrived 49 hours ago (its acknowledgement was refused)
    xml = xml_of({"ToUserName": "gh_97417a04a28d", "FromUserName": OPENID,
                  "CreateTime": 1714037059, "MsgType": "text", "Content": "订单什么时候到？",
                  "MsgId": 24527183720716364})  # fmt: skip
    old = datetime.now(UTC) - timedelta(hours=49)
    message = parse(read_xml(xml.encode()), "tp-wechat", received_at=old)
    intake = DeskIntake(Desk.load(wechat_desk), DramatiqDispatcher(), background=False)
    intake.accept(message, xml.encode(), "text/xml")
    wait_until(lambda: all_done(wechat_desk))
    [request] = rows(wechat_desk, Request)

    # When an agent resolves it now
    resolve(wechat_desk, request.id)

    # Then no survey is tried, and the event log says why
    [skipped] = wait_until(lambda: rows(wechat_desk, Event, Event.kind == "survey_skipped"))
    assert skipped.request_id == request.id
    assert skipped.data["reason"] == "outside_reply_window"
    assert rows(wechat_desk, Survey)[0].skip_reason == "outside_reply_window"
    assert [m.kind for m in rows(wechat_desk, Message, Message.kind == "survey")] == []
    assert fake_wechat.sent == []


def test_a_wechat_request_within_its_window_is_surveyed_and_a_manyi_reply_is_rated(
    wechat_desk, client, worker, fake_wechat
):
    fake_wechat.push_text(f"{wechat_desk.public_url}/webhooks/tp-wechat", OPENID, "我要退货")
    wait_until(lambda: all_done(wechat_desk) and fake_wechat.sent)
    [request] = rows(wechat_desk, Request)

    resolve(wechat_desk, request.id)
    wait_until(lambda: len(fake_wechat.sent) == 2)
    assert "5 非常满意" in str(fake_wechat.sent[1]["content"])

    fake_wechat.push_text(f"{wechat_desk.public_url}/webhooks/tp-wechat", OPENID, "满意，谢谢")
    [survey] = wait_until(lambda: answered(wechat_desk))
    assert (survey.score, survey.comment) == (4, "谢谢")
    wait_until(lambda: all_done(wechat_desk))
    assert len(rows(wechat_desk, Request)) == 1
    assert len(fake_wechat.sent) == 2


# -- email links on the live server ------------------------------------------------------------


@pytest.fixture
def email_survey(settings, configure) -> tuple[int, list[str]]:
    """A resolved email request whose survey went out: (survey id, its five links)."""
    configure(FOLLOW_UP)
    config = config_file.load(settings.config)
    request_id = resolved_request(settings, channel="email", address="li@example.com")
    with unit_of_work(settings) as session:
        request = session.get(Request, request_id)
        [task] = surveys.on_resolved(session, request, config)
    with unit_of_work(settings) as session:
        signer = LinkSigner.from_settings(settings)
        [send] = surveys.send_one(session, task.message_id, config, signer)
        text = session.get(Message, send.message_id).text
    links = [w for w in text.split() if w.startswith(f"{settings.public_url}/survey/")]
    return task.message_id, links


def test_an_email_link_clicked_twice_records_the_rating_once(settings, client, email_survey):
    survey_id, links = email_survey
    four = next(link for link in links if link.endswith("score=4"))

    first, second = client.get(four), client.get(four)

    assert (first.status_code, second.status_code) == (200, 200)
    assert "4" in first.text
    assert "感谢" in first.text
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["referrer-policy"] == "no-referrer"
    rated = rows(settings, Event, Event.kind == "rated")
    assert [(e.data["score"], e.data["survey_id"]) for e in rated] == [(4, survey_id)]
    assert rows(settings, Survey)[0].answered_via == "link"


def test_a_comment_is_added_on_the_page_and_shown_escaped(settings, client, email_survey):
    _, links = email_survey
    path = links[0].split("?")[0]
    comment = "<script>alert(1)</script> 快递太慢"

    posted = client.post(path, data={"score": "2", "comment": comment})
    again = client.post(path, data={"score": "2", "comment": comment})

    assert posted.status_code == 200
    assert "<script>alert(1)</script>" not in posted.text
    assert "&lt;script&gt;" in posted.text
    assert [e.data["comment"] for e in rows(settings, Event, Event.kind == "rated")] == [comment]
    assert again.status_code == 200
    assert rows(settings, FollowUp)[0].kind == "low_rating"


def test_the_page_without_a_score_offers_the_five_choices(client, email_survey):
    _, links = email_survey
    page = client.get(links[0].split("?")[0])
    missing = client.post(links[0].split("?")[0], data={"comment": "no score"})

    assert page.status_code == 200
    assert page.text.count('type="radio"') == 5
    assert "非常满意" in page.text
    assert "Very good" in page.text
    assert missing.status_code == 422


def test_a_tampered_link_gets_a_clear_400_page_and_records_nothing(settings, client, email_survey):
    _, links = email_survey
    token = links[0].split("/survey/")[1].split("?")[0]
    head, signature = token.rsplit(".", 1)
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    other = f"{int(head.split('.')[0]) + 1}.{head.split('.', 1)[1]}.{signature}"

    for bad in (forged, other, "garbage"):
        response = client.get(f"/survey/{bad}?score=5")
        assert response.status_code == 400
        assert "This link is not valid." in response.text
        assert "此链接无效" in response.text
    assert client.post(f"/survey/{forged}", data={"score": "5"}).status_code == 400
    assert rows(settings, Event, Event.kind == "rated") == []


def test_an_expired_link_gets_a_clear_410_page_and_records_nothing(settings, client, email_survey):
    survey_id, _ = email_survey
    [survey] = rows(settings, Survey)
    signer = LinkSigner.from_settings(settings)
    token = signer.token(survey_id, survey.token_id, datetime.now(UTC) - timedelta(minutes=1))

    response = client.get(f"/survey/{token}?score=5")

    assert response.status_code == 410
    assert "This link has expired." in response.text
    assert "此链接已过期" in response.text
    assert rows(settings, Event, Event.kind == "rated") == []
