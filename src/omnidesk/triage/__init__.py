"""Bilingual triage of requests: category, confidence, priority, language and entities.

`classify` and `evaluate` here are the functions; their modules are imported by full path
(`from omnidesk.triage.classify import Classifier`). The names below are loaded on first use:
importing the package (the configuration does) costs no numpy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Classifier": "classify",
    "Triage": "classify",
    "classify": "classify",
    "default_model_dir": "classify",
    "TriageConfig": "config",
    "load_config": "config",
    "EntityExtractor": "entities",
    "Report": "evaluate",
    "evaluate": "evaluate",
    "format_report": "evaluate",
    "detect_language": "language",
    "Model": "model",
    "ModelError": "model",
    "activate": "store",
    "list_versions": "store",
    "rollback": "store",
    "TrainResult": "train",
    "ensure_model": "train",
    "retrain": "train",
}

__all__ = [
    "Classifier",
    "EntityExtractor",
    "Model",
    "ModelError",
    "Report",
    "TrainResult",
    "Triage",
    "TriageConfig",
    "activate",
    "classify",
    "default_model_dir",
    "detect_language",
    "ensure_model",
    "evaluate",
    "format_report",
    "list_versions",
    "load_config",
    "retrain",
    "rollback",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)


if TYPE_CHECKING:
    from omnidesk.triage.classify import Classifier, Triage, classify, default_model_dir
    from omnidesk.triage.config import TriageConfig, load_config
    from omnidesk.triage.entities import EntityExtractor
    from omnidesk.triage.evaluate import Report, evaluate, format_report
    from omnidesk.triage.language import detect_language
    from omnidesk.triage.model import Model, ModelError
    from omnidesk.triage.store import activate, list_versions, rollback
    from omnidesk.triage.train import TrainResult, ensure_model, retrain
