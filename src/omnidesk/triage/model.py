"""The learned category model: TF-IDF weights, a linear classifier and a temperature.

A model is saved as `model.npz` (arrays) and `vocabulary.json` (feature strings), never as a
pickle: loading one runs no code from the model directory and does not import scikit-learn,
which keeps loading well under a second.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from omnidesk.errors import ModelError
from omnidesk.triage.features import analyze

FORMAT = 1
Floats = npt.NDArray[np.float32]


__all__ = ["FORMAT", "Model", "ModelError", "load_model", "save_model"]


@dataclass(frozen=True, eq=False)
class Model:
    """A trained model; `probabilities` gives calibrated per-category probabilities."""

    categories: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: Floats  # (n_features,)
    weights: Floats  # (n_features, n_categories): rows gathered per message
    intercept: Floats  # (n_categories,)
    inverse_temperature: float

    def scores(self, text: str) -> Floats:
        """Decision values of the linear model for one normalised message."""
        counts = Counter(i for f in analyze(text) if (i := self.vocabulary.get(f)) is not None)
        if not counts:
            return self.intercept.copy()
        index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        # Same weighting as TfidfVectorizer(sublinear_tf=True, norm="l2").
        x: npt.NDArray[Any] = (1.0 + np.log(tf)) * self.idf[index]
        x /= np.sqrt(x @ x)
        result: Floats = x @ self.weights[index] + self.intercept
        return result

    def probabilities(self, text: str) -> Floats:
        """Calibrated probabilities (softmax of scaled scores), in `categories` order."""
        z = self.scores(text) * self.inverse_temperature
        z = np.exp(z - z.max())
        result: Floats = z / z.sum()
        return result

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely category and its probability."""
        p = self.probabilities(text)
        best = int(p.argmax())
        return self.categories[best], float(p[best])


def save_model(model: Model, directory: Path) -> None:
    """Write the model's files into `directory` (which must exist)."""
    features: list[str] = [""] * len(model.vocabulary)
    for feature, index in model.vocabulary.items():
        features[index] = feature
    np.savez(
        directory / "model.npz",
        idf=model.idf,
        weights=model.weights,
        intercept=model.intercept,
        inverse_temperature=np.float64(model.inverse_temperature),
    )
    meta = {"format": FORMAT, "categories": list(model.categories), "features": features}
    (directory / "vocabulary.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def load_model(directory: Path) -> Model:
    """Read a model saved by `save_model`; raise ModelError if it is missing or damaged."""
    try:
        meta = json.loads((directory / "vocabulary.json").read_text("utf-8"))
        with np.load(directory / "model.npz", allow_pickle=False) as arrays:
            idf, weights = arrays["idf"], arrays["weights"]
            intercept, beta = arrays["intercept"], float(arrays["inverse_temperature"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{directory}: cannot read the triage model: {exc}") from exc
    if meta.get("format") != FORMAT:
        raise ModelError(f"{directory}: unknown model format {meta.get('format')!r}")
    categories: Sequence[str] = meta["categories"]
    features: list[str] = meta["features"]
    if weights.shape != (len(features), len(categories)) or idf.shape != (len(features),):
        raise ModelError(f"{directory}: model arrays do not match its vocabulary")
    return Model(
        categories=tuple(categories),
        vocabulary={feature: i for i, feature in enumerate(features)},
        idf=idf.astype(np.float32),
        weights=np.ascontiguousarray(weights, dtype=np.float32),
        intercept=intercept.astype(np.float32),
        inverse_temperature=beta,
    )
