"""The bundled data sets: shape, balance, and no held-out or blind line in training."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from omnidesk.triage.config import TriageConfig
from omnidesk.triage.dataset import BLIND_PATH, HELDOUT_PATH, TRAIN_PATH, Example, read_examples
from omnidesk.triage.language import detect_language
from omnidesk.triage.normalize import normalize, strip_salutations


@pytest.fixture(scope="module")
def train() -> list[Example]:
    return read_examples(TRAIN_PATH)


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return read_examples(HELDOUT_PATH)


@pytest.fixture(scope="module")
def blind() -> list[Example]:
    return read_examples(BLIND_PATH)


def key(text: str) -> str:
    """What two lines must differ in: words, not numbers, punctuation, emoji or salutations."""
    return re.sub(r"[\W\d_]+", "", strip_salutations(normalize(text)).lower())


def test_the_sets_are_big_enough(train: list[Example], heldout: list[Example]) -> None:
    assert len(train) >= 1500
    assert len(heldout) >= 400


@pytest.mark.parametrize("name", ["train", "heldout"])
def test_every_category_is_well_represented_in_both_languages(
    name: str, request: pytest.FixtureRequest, config: TriageConfig
) -> None:
    examples: list[Example] = request.getfixturevalue(name)
    counts = Counter((e.language, e.category) for e in examples)
    least = 150 if name == "train" else 25
    for language in ("zh", "en"):
        for category in config.categories:
            assert counts[(language, category)] >= least, (language, category)


def test_no_held_out_line_is_also_a_training_line(
    train: list[Example], heldout: list[Example]
) -> None:
    seen = {key(e.text) for e in train}
    assert [e.text for e in heldout if key(e.text) in seen] == []


def test_no_blind_line_is_a_training_or_held_out_line(
    train: list[Example], heldout: list[Example], blind: list[Example]
) -> None:
    seen = {key(e.text) for e in train + heldout} - {""}
    assert [e.text for e in blind if key(e.text) in seen] == []


def test_the_blind_set_covers_every_category_in_both_languages(
    blind: list[Example], config: TriageConfig
) -> None:
    counts = Counter((e.language, e.category) for e in blind)
    for language in ("zh", "en"):
        for category in config.categories:
            assert counts[(language, category)] >= 15, (language, category)


def test_lines_are_labelled_with_a_language_that_matches_their_text(
    train: list[Example], heldout: list[Example]
) -> None:
    for example in train + heldout:
        assert example.language in ("zh", "en")
        if len(example.text) > 15:
            assert detect_language(normalize(example.text)) == example.language, example.text
