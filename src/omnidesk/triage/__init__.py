"""Bilingual triage of requests: category, confidence, priority, language and entities.

`classify` and `evaluate` here are the functions; their modules are imported by full path
(`from omnidesk.triage.classify import Classifier`).
"""

from omnidesk.triage.classify import Classifier, Triage, classify, default_model_dir
from omnidesk.triage.config import TriageConfig, load_config
from omnidesk.triage.entities import EntityExtractor
from omnidesk.triage.evaluate import Report, evaluate, format_report
from omnidesk.triage.language import detect_language
from omnidesk.triage.model import Model, ModelError
from omnidesk.triage.store import activate, list_versions, rollback
from omnidesk.triage.train import TrainResult, ensure_model, retrain

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
