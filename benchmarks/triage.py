"""Triage benchmark: throughput on one core, model load time and memory, macro-F1 per language.

Compares, in the same run, the full `Classifier.classify` (normalisation, model, rules,
language, entities) with the model alone and with a bare scikit-learn pipeline (TF-IDF +
LinearSVC), both one message per call and as one batch.

    .venv/bin/python benchmarks/triage.py [--messages 20000] [--model-dir DIR]
"""

from __future__ import annotations

import os

# One core, one thread: pin before numpy/BLAS start their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from omnidesk.triage import Classifier, evaluate, load_config, retrain  # noqa: E402
from omnidesk.triage.dataset import BLIND_PATH, HELDOUT_PATH, TRAIN_PATH, read_examples  # noqa: E402
from omnidesk.triage.features import analyze  # noqa: E402
from omnidesk.triage.normalize import normalize  # noqa: E402
from omnidesk.triage.store import load_version  # noqa: E402

# In a fresh process. Peak memory from VmHWM: ru_maxrss would carry over the parent's across exec.
COLD_LOAD = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from omnidesk.triage import Classifier
c = Classifier.load(Path(sys.argv[1]), train_if_missing=False)
c.classify("warm up")
t1 = time.perf_counter()
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(t1 - t0, int(status["VmHWM"].split()[0]) / 1024, "sklearn" in " ".join(sys.modules))
"""


def rate(label: str, count: int, run: Callable[[], object]) -> float:
    """Time `run` over `count` messages and print messages per second.

    Also per second of this process's CPU time: on a busy machine the wall clock counts the
    time other processes had the core, the CPU time does not.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    run()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    per_second = count / elapsed
    print(
        f"  {label:<46} {per_second:>10,.0f} msg/s  {elapsed / count * 1e6:>8.1f} µs/msg"
        f"  (CPU time: {count / cpu:>8,.0f} msg/s)"
    )
    return per_second


def bare_sklearn_pipeline(texts: list[str], labels: list[str]) -> Any:
    """The baseline: TF-IDF on the same features and a LinearSVC, as plain scikit-learn."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=analyze, sublinear_tf=True)
    return make_pipeline(vectorizer, LinearSVC(C=0.5, class_weight="balanced")).fit(texts, labels)


def throughput(classifier: Classifier, messages: list[str]) -> None:
    """Messages per second, ours and the baseline's."""
    train = read_examples(TRAIN_PATH)
    pipeline = bare_sklearn_pipeline(
        [normalize(e.text) for e in train], [e.category for e in train]
    )
    clean = [normalize(m) for m in messages]
    n = len(messages)
    print(f"\nthroughput, one core, {n:,} messages (held-out and training texts, cycled)")
    full = rate(
        "omnidesk classify (everything)", n, lambda: [classifier.classify(m) for m in messages]
    )
    model = rate(
        "omnidesk model only (normalised input)",
        n,
        lambda: [classifier.model.predict(t) for t in clean],
    )
    rate("normalise only", n, lambda: [normalize(m) for m in messages])
    single = rate(
        "bare sklearn pipeline, one message per call",
        n // 10,
        lambda: [pipeline.predict([t]) for t in clean[: n // 10]],
    )
    batch = rate("bare sklearn pipeline, one batch", n, lambda: pipeline.predict(clean))
    print(f"  ratio classify / sklearn one-per-call: {full / single:.1f}x")
    print(f"  ratio classify / sklearn batch: {full / batch:.2f}x")
    print(f"  ratio classify / model only: {full / model:.2f}x")
    print(f"  target >= 5,000 msg/s: {'met' if full >= 5000 else 'NOT MET'}")


def load_and_memory(directory: Path) -> None:
    """Load time and memory, in this process and in a fresh one."""
    print("\nload")
    tracemalloc.start()
    started = time.perf_counter()
    _, model = load_version(directory)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  load_version in this process: {elapsed * 1000:.0f} ms, "
        f"peak allocations {peak / 2**20:.1f} MiB, {len(model.vocabulary):,} features"
    )
    out = subprocess.run(
        [sys.executable, "-c", COLD_LOAD, str(directory)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    seconds, rss, sklearn = float(out[0]), float(out[1]), out[2]
    print(f"  cold process (import + load + first classify): {seconds:.2f} s")
    print(f"  cold process peak RSS {rss:.0f} MiB; scikit-learn imported: {sklearn}")
    print(
        f"  targets: load < 1 s {'met' if seconds < 1 else 'NOT MET'}; "
        f"< 200 MB {'met' if rss < 200 else 'NOT MET'}"
    )
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    print(f"  on disk: {size / 2**20:.1f} MiB")


def quality(classifier: Classifier) -> None:
    """Macro-F1 per language on the held-out set and on the blind set."""
    for title, path in (
        ("held-out macro-F1 (target >= 0.90 in each language)", HELDOUT_PATH),
        ("blind-set macro-F1 (other phrasings, never trained on)", BLIND_PATH),
    ):
        report = evaluate(classifier, read_examples(path))
        print(f"\n{title}")
        for language, sub in report.by_language.items():
            print(
                f"  {language}: {sub.macro_f1:.3f}  (n={sub.size}, needs_triage={sub.needs_triage})"
            )
        print(f"  all: {report.macro_f1:.3f}")


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--model-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.model_dir or Path(tmp)
        config = load_config()
        if args.model_dir is None:
            started = time.perf_counter()
            retrain(directory, config=config)
            seconds = time.perf_counter() - started
            print(f"training (bundled data, with held-out evaluation): {seconds:.1f} s")
        classifier = Classifier.load(directory, config, train_if_missing=False)
        texts = [e.text for e in read_examples(HELDOUT_PATH) + read_examples(TRAIN_PATH)]
        messages = [texts[i % len(texts)] for i in range(args.messages)]
        throughput(classifier, messages)
        load_and_memory(directory)
        quality(classifier)


if __name__ == "__main__":
    main()
