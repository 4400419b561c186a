"""Classifying a request: category, confidence, priority, language, entities and triage flag."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from omnidesk.triage import Classifier, Model, ModelError, TriageConfig
from omnidesk.triage.features import analyze
from omnidesk.triage.model import load_model, save_model
from omnidesk.triage.normalize import normalize
from omnidesk.triage.store import load_version, versions

# Phrasings written for this test, in neither the training nor the held-out set.
CLEAR_CASES = [
    ("包裹到哪里了，一直没收到", "order"),
    ("can you tell me where my parcel is right now", "order"),
    ("鞋子有点挤脚，想换大半码", "after_sales"),
    ("the kettle stopped heating after a week, I want my money back", "after_sales"),
    ("你们客服态度太恶劣了，我非常生气", "complaint"),
    ("your staff treated me terribly and nobody cares", "complaint"),
    ("这个蓝牙音箱防水吗", "product"),
    ("does this blender come in red?", "product"),
    ("密码忘记了，登录不了", "account"),
    ("I can't sign into my account anymore", "account"),
    ("付款一直失败，换了卡也不行", "payment"),
    ("please send me a VAT invoice for my purchase", "payment"),
    ("帮我转人工客服", "contact"),
    ("what is your customer support phone number?", "contact"),
    ("谢谢你，问题解决了", "other"),
    ("thanks a million, all sorted", "other"),
]


@pytest.mark.parametrize(("text", "category"), CLEAR_CASES, ids=[c[0] for c in CLEAR_CASES])
def test_clear_requests_get_their_category(
    classifier: Classifier, text: str, category: str
) -> None:
    assert classifier.classify(text).category == category


def test_a_triage_has_every_field_and_is_json_ready(classifier: Classifier) -> None:
    triage = classifier.classify("订单1234567890到哪了？", channel="wechat")
    data = json.loads(json.dumps(triage.to_dict(), ensure_ascii=False))
    assert data["category"] == "order"
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["priority"] == "normal"
    assert data["language"] == "zh"
    assert data["entities"]["order_numbers"] == ["1234567890"]
    assert data["needs_triage"] is False
    assert data["model_version"] == classifier.version


def test_mixed_chinese_and_english_is_chinese_and_understood(classifier: Classifier) -> None:
    triage = classifier.classify("我的order还没到，能帮我查一下tracking吗")
    assert (triage.category, triage.language) == ("order", "zh")


def test_traditional_and_full_width_text_is_read_like_simplified(classifier: Classifier) -> None:
    simplified = classifier.classify("我的订单还没到，单号1234567890")
    for variant in ("我的訂單還沒到，單號1234567890", "我的订单还没到，单号１２３４５６７８９０"):
        triage = classifier.classify(variant)
        assert triage.category == simplified.category
        assert triage.confidence == pytest.approx(simplified.confidence, abs=0.02)
        assert triage.entities == simplified.entities


def test_an_escalation_rule_overrides_the_model_and_is_named(classifier: Classifier) -> None:
    triage = classifier.classify("订单1234567890还没发货，再不发我就打12315")
    assert (triage.category, triage.priority, triage.rule) == (
        "complaint",
        "urgent",
        "regulator_or_legal",
    )
    assert triage.needs_triage is False
    assert triage.confidence >= 0.95


def test_a_double_charge_is_high_priority_payment(classifier: Classifier) -> None:
    triage = classifier.classify("支付宝扣了两次钱,订单只有一个")
    assert (triage.category, triage.priority) == ("payment", "high")


def test_an_angry_tone_raises_priority(classifier: Classifier) -> None:
    calm = classifier.classify("my parcel hasn't arrived yet")
    angry = classifier.classify("my parcel STILL hasn't arrived, this is ridiculous!!!")
    assert (calm.priority, angry.priority) == ("normal", "high")
    assert "negative_sentiment" in angry.cues


def test_thanks_are_low_priority(classifier: Classifier) -> None:
    assert classifier.classify("谢谢啦").priority == "low"


def test_below_the_threshold_a_request_is_marked_for_human_triage(
    classifier: Classifier, config: TriageConfig
) -> None:
    strict = config.model_copy(update={"model": config.model.model_copy(update={"threshold": 1.0})})
    lenient = config.model_copy(
        update={"model": config.model.model_copy(update={"threshold": 0.0})}
    )
    text = "hmm about the thing from before"
    assert Classifier(classifier.model, strict).classify(text).needs_triage is True
    assert Classifier(classifier.model, lenient).classify(text).needs_triage is False
    # A rule's decision needs no human even under the strictest threshold.
    assert Classifier(classifier.model, strict).classify("I'll sue you").needs_triage is False


def test_the_subject_is_read_with_the_body(classifier: Classifier) -> None:
    triage = classifier.classify("see above, order 1234567890", subject="Refund not received")
    assert triage.category == "after_sales"


def test_the_quoted_earlier_message_of_a_reply_is_ignored(classifier: Classifier) -> None:
    text = "Great, thank you!\n\nOn Mon, 3 Jun 2024, TP <help@tp.cn> wrote:\n> Refund 9876543210"
    triage = classifier.classify(text)
    assert triage.category == "other"
    assert triage.entities["order_numbers"] == []


def test_a_model_with_a_category_the_configuration_lacks_is_refused(
    classifier: Classifier, config: TriageConfig
) -> None:
    fewer = config.model_copy(
        update={"categories": {k: v for k, v in config.categories.items() if k != "other"}}
    )
    with pytest.raises(ModelError, match="other"):
        Classifier(classifier.model, fewer)


def test_loading_trains_a_default_model_once_when_there_is_none(
    tmp_path: Path, config: TriageConfig
) -> None:
    first = Classifier.load(tmp_path, config)
    second = Classifier.load(tmp_path, config)
    assert first.version == second.version == "v0001"
    assert versions(tmp_path) == ["v0001"]


def test_loading_without_a_model_and_without_training_fails_clearly(
    tmp_path: Path, config: TriageConfig
) -> None:
    with pytest.raises(ModelError, match="no active triage model"):
        Classifier.load(tmp_path, config, train_if_missing=False)


def test_a_saved_model_loads_in_under_a_second_and_predicts_the_same(
    trained_dir: Path, classifier: Classifier, tmp_path: Path
) -> None:
    started = time.perf_counter()
    _, model = load_version(trained_dir)
    assert time.perf_counter() - started < 1.0
    save_model(model, tmp_path)
    again = load_model(tmp_path)
    text = normalize("退款什么时候到账")
    assert np.allclose(again.probabilities(text), classifier.model.probabilities(text))


def test_a_damaged_model_directory_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "vocabulary.json").write_text("{}")
    with pytest.raises(ModelError):
        load_model(tmp_path)


def test_the_model_weighs_features_exactly_as_the_tfidf_vectorizer_does() -> None:
    # Given a vectorizer fitted on a few messages
    docs = [normalize(t) for t in ["退款退款到账了吗", "where is my refund", "订单 order 到哪了?"]]
    vectorizer = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, dtype=np.float32).fit(docs)
    size = len(vectorizer.vocabulary_)
    # And a Model whose weights are the identity, so its scores are its feature vector
    identity = Model(
        categories=tuple(f"f{i}" for i in range(size)),
        vocabulary=dict(vectorizer.vocabulary_),
        idf=vectorizer.idf_.astype(np.float32),
        weights=np.eye(size, dtype=np.float32),
        intercept=np.zeros(size, dtype=np.float32),
        inverse_temperature=1.0,
    )
    # Then the model's vector is the vectorizer's, for seen and unseen text
    for text in [*docs, normalize("refund 到账 unseen words")]:
        expected = vectorizer.transform([text]).toarray()[0]
        assert np.allclose(identity.scores(text), expected, atol=1e-6)
