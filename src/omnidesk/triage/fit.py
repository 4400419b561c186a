"""Fitting a Model with scikit-learn: TF-IDF, a linear SVM and temperature scaling.

Calibration: the SVM's decision values on held-back folds of the training set are fitted to
the labels by one temperature (softmax(beta * scores)), which keeps the SVM's ranking and makes
"confidence 0.45" mean roughly what it says. Neighbouring lines of the training file are often
variants of one message, so folds keep blocks of neighbours together; otherwise calibration
would see near-copies of its own training lines and come out overconfident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from omnidesk.triage.features import analyze
from omnidesk.triage.model import Model

DEFAULT_C = 0.5
FOLDS = 5
NEIGHBOUR_BLOCK = 4


def _fit_temperature(
    scores: npt.NDArray[np.float64], labels: npt.NDArray[np.intp], weights: npt.NDArray[np.float64]
) -> float:
    from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]
    from scipy.special import log_softmax  # type: ignore[import-untyped]

    def loss(log_beta: float) -> float:
        logp = log_softmax(np.exp(log_beta) * scores, axis=1)
        return float(-(weights * logp[np.arange(len(labels)), labels]).sum() / weights.sum())

    result = minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded")
    return float(np.exp(result.x))


def balanced(labels: Sequence[str]) -> dict[str, float]:
    """Per-category weights that make every category count alike (n / (k * n_category))."""
    counts = Counter(labels)
    return {name: len(labels) / (len(counts) * n) for name, n in counts.items()}


def fit_model(
    texts: Sequence[str],
    labels: Sequence[str],
    categories: Sequence[str],
    weights: Sequence[float] | None = None,
    *,
    c: float = DEFAULT_C,
    seed: int = 0,
) -> Model:
    """Train on normalised texts; every category needs at least `FOLDS` lines.

    `weights` are per line and include class balancing; without them, categories are balanced.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.model_selection import (  # type: ignore[import-untyped]
        StratifiedGroupKFold,
        cross_val_predict,
    )
    from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

    index = {name: i for i, name in enumerate(categories)}
    y = np.array([index[label] for label in labels], dtype=np.intp)
    if weights is None:
        balance = balanced(labels)
        weights = [balance[label] for label in labels]
    w = np.asarray(weights, dtype=np.float64)
    vectorizer = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, dtype=np.float32)
    x = vectorizer.fit_transform(texts)
    svm = LinearSVC(C=c, random_state=seed)
    folds = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    groups = np.arange(len(y)) // NEIGHBOUR_BLOCK
    held_back = cross_val_predict(
        svm, x, y, cv=folds, groups=groups, method="decision_function", params={"sample_weight": w}
    )
    beta = _fit_temperature(held_back, y, w)
    svm.fit(x, y, sample_weight=w)
    vocabulary = {str(f): int(i) for f, i in vectorizer.vocabulary_.items()}
    return Model(
        categories=tuple(categories),
        vocabulary=vocabulary,
        idf=vectorizer.idf_.astype(np.float32),
        weights=np.ascontiguousarray(svm.coef_.T, dtype=np.float32),
        intercept=svm.intercept_.astype(np.float32),
        inverse_temperature=beta,
    )
