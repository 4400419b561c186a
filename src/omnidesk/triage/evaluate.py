"""Evaluation: per-category precision, recall and F1, macro-F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from omnidesk.triage.classify import Classifier
from omnidesk.triage.dataset import Example


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """How one category fared."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Scores on a labelled set; `by_language` holds the same for each language."""

    categories: tuple[str, ...]
    per_category: dict[str, CategoryScore]
    macro_f1: float
    accuracy: float
    confusion: list[list[int]]
    """Rows: the true category; columns: the predicted one; both in `categories` order."""
    size: int
    needs_triage: int
    by_language: dict[str, Report] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what metrics.json stores)."""
        return {
            "size": self.size,
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "needs_triage": self.needs_triage,
            "per_category": {
                name: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for name, s in self.per_category.items()
            },
            "confusion": {"labels": list(self.categories), "matrix": self.confusion},
            "by_language": {lang: r.to_dict() for lang, r in self.by_language.items()},
        }


def score(
    truth: Sequence[str],
    predicted: Sequence[str],
    categories: Sequence[str],
    needs_triage: int = 0,
) -> Report:
    """Scores of predictions against the truth; macro-F1 averages the categories present."""
    from sklearn.metrics import (  # type: ignore[import-untyped]
        confusion_matrix,
        precision_recall_fscore_support,
    )

    labels = list(categories)
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0.0)
    present = [i for i, name in enumerate(labels) if name in set(truth)]
    macro = float(sum(f[i] for i in present) / len(present)) if present else 0.0
    correct = sum(1 for t, q in zip(truth, predicted, strict=True) if t == q)
    return Report(
        categories=tuple(labels),
        per_category={
            name: CategoryScore(float(p[i]), float(r[i]), float(f[i]), int(s[i]))
            for i, name in enumerate(labels)
        },
        macro_f1=macro,
        accuracy=correct / len(truth) if truth else 0.0,
        confusion=confusion_matrix(truth, predicted, labels=labels).tolist(),
        size=len(truth),
        needs_triage=needs_triage,
    )


def evaluate(classifier: Classifier, examples: Sequence[Example]) -> Report:
    """Classify every example (rules included, as in production); score overall and by language."""
    categories = classifier.config.category_names
    results = [classifier.classify(e.text, channel=e.channel) for e in examples]
    truth = [e.category for e in examples]
    predicted = [t.category for t in results]
    languages = [e.language or t.language for e, t in zip(examples, results, strict=True)]
    report = score(truth, predicted, categories, sum(t.needs_triage for t in results))
    for language in sorted(set(languages)):
        picked = [i for i, lang in enumerate(languages) if lang == language]
        report.by_language[language] = score(
            [truth[i] for i in picked],
            [predicted[i] for i in picked],
            categories,
            sum(results[i].needs_triage for i in picked),
        )
    return report


def format_report(report: Report) -> str:
    """The report as a plain-text table."""
    width = max(len(name) for name in report.categories) + 2
    lines = [f"{'category':<{width}} precision  recall      f1  support"]
    for name, s in report.per_category.items():
        lines.append(
            f"{name:<{width}} {s.precision:9.3f} {s.recall:7.3f} {s.f1:7.3f} {s.support:8d}"
        )
    lines.append(
        f"\nmacro-F1 {report.macro_f1:.3f}   accuracy {report.accuracy:.3f}   "
        f"n={report.size}   needs_triage={report.needs_triage}"
    )
    for language, sub in report.by_language.items():
        lines.append(
            f"  {language}: macro-F1 {sub.macro_f1:.3f}   accuracy {sub.accuracy:.3f}   "
            f"n={sub.size}   needs_triage={sub.needs_triage}"
        )
    short = [name[:7] for name in report.categories]
    lines.append("\nconfusion (rows: true, columns: predicted)")
    lines.append(" " * width + " ".join(f"{s:>7}" for s in short))
    for name, row in zip(report.categories, report.confusion, strict=True):
        lines.append(f"{name:<{width}}" + " ".join(f"{n:>7}" for n in row))
    return "\n".join(lines)
