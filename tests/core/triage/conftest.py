"""Triage fixtures: the configuration and a model trained once per session on the bundled data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from omnidesk.triage import Classifier, TriageConfig, load_config, retrain


@pytest.fixture(scope="session")
def config() -> TriageConfig:
    return load_config()


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory: pytest.TempPathFactory, config: TriageConfig) -> Path:
    """A model directory with one active version trained on the bundled data. Do not modify."""
    directory = tmp_path_factory.mktemp("triage-models")
    retrain(directory, config=config)
    return directory


@pytest.fixture(scope="session")
def classifier(trained_dir: Path, config: TriageConfig) -> Classifier:
    return Classifier.load(trained_dir, config, train_if_missing=False)


@pytest.fixture
def model_dir(trained_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the trained model directory, free to retrain and roll back."""
    copy = tmp_path / "models"
    shutil.copytree(trained_dir, copy)
    return copy
