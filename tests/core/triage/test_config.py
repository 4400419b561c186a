"""The triage configuration file: the shipped one loads, bad ones say what is wrong and where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omnidesk.errors import ConfigError
from omnidesk.triage.config import TriageConfig, load_config, parse_config

DEFAULT_CATEGORIES = [
    "order", "after_sales", "complaint", "product", "account", "payment", "contact", "other",
]  # fmt: skip


def test_the_shipped_configuration_has_the_default_categories_in_order(
    config: TriageConfig,
) -> None:
    assert list(config.categories) == DEFAULT_CATEGORIES
    assert config.categories["payment"].zh == "支付"
    assert config.model.threshold == pytest.approx(0.45)


def test_the_configuration_file_can_be_chosen_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[categories.a]\nzh = "甲"\nen = "A"\n[categories.b]\nzh = "乙"\nen = "B"\n')
    monkeypatch.setenv("OMNIDESK_TRIAGE_CONFIG", str(path))
    assert list(load_config().categories) == ["a", "b"]


def edit(config: TriageConfig, change: Any) -> dict[str, Any]:
    data = config.model_dump()
    change(data)
    return data


BAD = [
    ("unknown-rule-category", lambda d: d["rules"][0].update(category="complain"), "complain"),
    ("duplicate-rule", lambda d: d.update(rules=[*d["rules"], d["rules"][0]]), "duplicate rule"),
    ("no-effect", lambda d: d["rules"][0].update(category=None, priority=None), "neither"),
    ("bad-rule-regex", lambda d: d["rules"][0].update(patterns=["(律师"]), r"rules\.0\.patterns"),
    ("threshold-above-one", lambda d: d["model"].update(threshold=1.5), r"model\.threshold"),
    ("unknown-priority", lambda d: d["categories"]["order"].update(priority="asap"), "priority"),
    ("unknown-key", lambda d: d["model"].update(treshold=0.5), "treshold"),
    ("one-category", lambda d: d.update(categories={"x": {"zh": "x", "en": "x"}}), "categories"),
    ("bad-category-name", lambda d: d["categories"].update({"After Sales": {"zh": "x", "en": "x"}}),
     "lower_snake_case"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_configuration_is_refused_with_the_key_named(
    config: TriageConfig, change: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config(edit(config, change), "config/triage.toml")
    assert "config/triage.toml" in str(caught.value)


def test_a_missing_file_and_broken_toml_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\nthreshold = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
