"""/api/v1/classifier: the triage model's versions with their held-out metrics; retraining."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request

from omnidesk.api.admin_schemas import ClassifierOut, ModelVersionOut, RetrainIn, RetrainOut
from omnidesk.api.deps import AdminAgent, SessionDep, StaffAgent
from omnidesk.api.schemas import PROBLEMS
from omnidesk.db import unit_of_work
from omnidesk.services import audit, corrections
from omnidesk.services.problems import Rejected
from omnidesk.triage import store
from omnidesk.triage.config import load_config

if TYPE_CHECKING:
    from omnidesk.triage.train import TrainResult

router = APIRouter(prefix="/classifier", tags=["classifier"], responses=PROBLEMS)


@router.get("")
def classifier(me: StaffAgent, session: SessionDep, request: Request) -> ClassifierOut:
    """The active version, every stored version with its metrics, and corrections not yet
    trained on."""
    model_dir = request.app.state.settings.triage_model_dir
    return ClassifierOut(
        active=store.active_version(model_dir),
        versions=[ModelVersionOut.model_validate(v) for v in store.list_versions(model_dir)],
        untrained_corrections=corrections.untrained(session),
    )


@router.post("/retrain")
def retrain(body: RetrainIn, me: AdminAgent, request: Request) -> RetrainOut:
    """Train on the training set plus agents' corrections now; activated if not worse.

    Training (a second or two) holds no transaction; the corrections used are marked after.
    """
    settings = request.app.state.settings
    try:
        result = corrections.retrain_with_corrections(
            settings, settings.triage_model_dir, load_config(), force=body.force
        )
        with unit_of_work(settings) as session:
            audit.record(
                session,
                me.username,
                "classifier_retrained",
                "classifier",
                result.version,
                activated=result.activated,
                reason=result.reason,
            )
    except ValueError as exc:
        raise Rejected.one("base", "cannot_train", str(exc), status=409) from None
    return _outcome(result)


def _outcome(result: TrainResult) -> RetrainOut:
    return RetrainOut(
        version=result.version,
        activated=result.activated,
        reason=result.reason,
        macro_f1=result.macro_f1,
        previous=result.previous,
        corrections_used=result.corrections_used,
        corrections_dropped=result.corrections_dropped,
    )
