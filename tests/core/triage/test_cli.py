"""The command line: `omnidesk classify` (JSON lines) and `omnidesk classifier …`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from omnidesk.triage import Classifier, default_model_dir
from omnidesk.triage.cli import classifier_app, classify_command, classify_stream
from omnidesk.triage.store import active_version

runner = CliRunner()


def stream(classifier: Classifier, *lines: str) -> tuple[list[dict[str, object]], int]:
    out = io.StringIO()
    failed = classify_stream(io.StringIO("".join(f"{line}\n" for line in lines)), out, classifier)
    return [json.loads(line) for line in out.getvalue().splitlines()], failed


def test_each_json_line_in_gives_one_json_line_out(classifier: Classifier) -> None:
    rows, failed = stream(
        classifier,
        '{"text": "订单1234567890到哪了"}',
        '{"text": "I was charged twice", "channel": "email", "subject": "Payment", "id": 42}',
    )
    assert failed == 0
    assert [r["category"] for r in rows] == ["order", "payment"]
    assert rows[1]["id"] == 42
    for row in rows:
        assert {"category", "confidence", "priority", "language", "entities"} <= set(row)


def test_chinese_is_written_as_is_not_escaped(classifier: Classifier) -> None:
    out = io.StringIO()
    classify_stream(io.StringIO('{"text": "退款"}\n'), out, classifier)
    assert "\\u" not in out.getvalue()


def test_a_bad_line_gives_an_error_on_its_line_and_the_stream_goes_on(
    classifier: Classifier,
) -> None:
    rows, failed = stream(
        classifier,
        '{"text": "hello"}',
        "not json",
        "",
        '["a list"]',
        '{"text": 5}',
        '{"subject": "no text"}',
        '{"text": "where is my order"}',
    )
    assert failed == 5
    assert len(rows) == 7
    assert [r.get("line") for r in rows[1:6]] == [2, 3, 4, 5, 6]
    assert rows[1]["error"].startswith("not JSON")
    assert rows[4]["error"] == "'text' must be a string"
    assert rows[6]["category"] == "order"


def cli() -> typer.Typer:
    # How the main omnidesk CLI mounts these.
    app = typer.Typer()
    app.add_typer(classifier_app, name="classifier")
    app.command("classify")(classify_command)
    return app


def test_the_classify_command_reads_stdin_and_fails_only_after_the_stream(
    trained_dir: Path,
) -> None:
    result = runner.invoke(
        cli(), ["classify", "--model-dir", str(trained_dir)], input='{"text": "hi"}\nbad\n'
    )
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert json.loads(lines[0])["category"] == "other"
    assert json.loads(lines[1])["line"] == 2


def test_evaluate_prints_scores_macro_f1_and_the_confusion_matrix(
    trained_dir: Path, tmp_path: Path
) -> None:
    labelled = tmp_path / "eval.jsonl"
    labelled.write_text(
        '{"text": "退款还没到账", "category": "after_sales"}\n'
        '{"text": "where is my parcel", "category": "order"}\n'
        '{"text": "转人工", "category": "contact"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        cli(), ["classifier", "evaluate", str(labelled), "--model-dir", str(trained_dir)]
    )
    assert result.exit_code == 0, result.output
    for expected in ("precision", "recall", "f1", "macro-F1", "confusion", "after_sales", "zh:"):
        assert expected in result.stdout


def test_evaluate_can_print_json(trained_dir: Path, tmp_path: Path) -> None:
    labelled = tmp_path / "eval.jsonl"
    labelled.write_text('{"text": "谢谢", "category": "other"}\n', encoding="utf-8")
    args = ["classifier", "evaluate", str(labelled), "--model-dir", str(trained_dir), "--json"]
    result = runner.invoke(cli(), args)
    report = json.loads(result.stdout)
    assert report["size"] == 1
    assert report["confusion"]["labels"][0] == "order"


def test_evaluate_on_a_malformed_file_fails_with_the_line_number(
    trained_dir: Path, tmp_path: Path
) -> None:
    labelled = tmp_path / "eval.jsonl"
    labelled.write_text('{"text": "ok", "category": "other"}\n{"text": "no label"}\n')
    result = runner.invoke(
        cli(), ["classifier", "evaluate", str(labelled), "--model-dir", str(trained_dir)]
    )
    assert result.exit_code == 2
    assert "eval.jsonl:2" in result.output


def test_train_with_corrections_then_list_then_rollback(model_dir: Path, tmp_path: Path) -> None:
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text('{"text": "积分没到账", "category": "account"}\n', encoding="utf-8")
    trained = runner.invoke(
        cli(),
        [
            "classifier",
            "train",
            "--model-dir",
            str(model_dir),
            "--corrections",
            str(corrections),
            "--force",
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert "v0002 activated" in trained.stdout
    listed = runner.invoke(cli(), ["classifier", "list", "--model-dir", str(model_dir)])
    assert "* v0002" in listed.stdout
    assert "  v0001" in listed.stdout
    rolled = runner.invoke(cli(), ["classifier", "rollback", "--model-dir", str(model_dir)])
    assert rolled.stdout.strip() == "active: v0001"
    assert active_version(model_dir) == "v0001"


def test_rollback_with_nothing_to_roll_back_to_is_an_error(
    trained_dir: Path, tmp_path: Path
) -> None:
    result = runner.invoke(cli(), ["classifier", "rollback", "--model-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no earlier model version" in result.output


def test_the_default_model_directory_is_under_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OMNIDESK_DATA_DIR", str(tmp_path))
    assert default_model_dir() == tmp_path / "models" / "triage"
    monkeypatch.delenv("OMNIDESK_DATA_DIR")
    assert default_model_dir() == Path("var/models/triage")
