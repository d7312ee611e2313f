"""``bioner evaluate`` on the JSONL fixtures: JSON shape, Markdown, plots, timing sidecar, user errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import bioner.cli
from bioner.cli.app import app

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only


FIXTURES = Path(__file__).parent.parent / "fixtures" / "evaluation"
GOLD, PRED = str(FIXTURES / "gold.jsonl"), str(FIXTURES / "pred_a.jsonl")

bioner.cli.load_verbs()
runner = CliRunner()


def test_json_report_has_the_documented_shape_and_timing() -> None:
    result = runner.invoke(app, ["evaluate", "--gold", GOLD, "--pred", PRED, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["documents"] == 4
    assert set(data["overall"]) == {"strict", "exact", "partial", "type"}
    assert data["overall"]["strict"]["correct"] == 5
    assert data["overall"]["strict"]["precision"] == 5 / 8
    assert set(data["per_label"]) == {"Chemical", "Disease", "Gene", "Species"}
    assert list(data["by_length"]) == ["1", "2", "3+"]
    assert data["timing"]["mean_ms"] == 20.0  # read from pred_a.jsonl.timing.json


def test_markdown_is_the_default_output() -> None:
    default = runner.invoke(app, ["evaluate", "--gold", GOLD, "--pred", PRED])
    explicit = runner.invoke(app, ["evaluate", "--gold", GOLD, "--pred", PRED, "--markdown"])
    assert default.exit_code == explicit.exit_code == 0
    assert default.stdout == explicit.stdout
    assert "| strict | 62.50 | 45.45 | 52.63 | 5 | 3 | 0 | 3 | 0 |" in default.stdout
    assert "| 3 | 20.00 | 18.00 | 28.80 | 40.00 | 480.0 |" in default.stdout


def test_labels_option_restricts_the_tables() -> None:
    result = runner.invoke(app, ["evaluate", "--gold", GOLD, "--pred", PRED, "--json", "--labels", "Gene, Disease"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data["per_label"]) == ["Gene", "Disease"]
    assert data["ignored"] == {"gold": 5, "predicted": 4}


def test_plot_writes_pngs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--gold", GOLD, "--pred", PRED, "--json", "--plot", str(tmp_path)])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the paths go to stderr, stdout stays JSON
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["f1_by_length.png", "per_label.png"]
    assert f"wrote {tmp_path / 'per_label.png'}" in result.stderr


def test_a_file_name_without_a_known_suffix_is_read_as_jsonl(tmp_path: Path) -> None:
    pred = tmp_path / "predictions.out"
    shutil.copy(PRED, pred)
    result = runner.invoke(app, ["evaluate", "--gold", GOLD, "--pred", str(pred), "--json"])
    assert result.exit_code == 0, result.output
    assert "timing" not in json.loads(result.stdout)


@pytest.mark.parametrize(
    ("pred", "extra", "message"),
    [
        ("pred_unknown.jsonl", [], "predictions hold document 'd9' that the gold does not have"),
        ("pred_a.jsonl", ["--json", "--markdown"], "choose one of --json and --markdown"),
        ("pred_a.jsonl", ["--format", "nonsense"], "unknown format 'nonsense'"),
        ("pred_a.jsonl", ["--option", "bogus=1"], "reader option not understood by format jsonl"),
        ("pred_a.jsonl", ["--option", "bogus"], "reader option 'bogus' is not KEY=VALUE"),
        ("pred_a.jsonl", ["--labels", " , "], "--labels names no label"),
        ("missing.jsonl", [], "missing.jsonl: no such file"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(
    run_main: RunMain, pred: str, extra: list[str], message: str
) -> None:
    code, _, err = run_main("evaluate", "--gold", GOLD, "--pred", str(FIXTURES / pred), *extra)
    assert code == 2
    assert err.startswith("bioner: error: ") and err.count("\n") == 1
    assert message in err


def test_a_malformed_prediction_line_names_file_and_line(
    run_main: RunMain,
    tmp_path: Path,
) -> None:
    pred = tmp_path / "pred.jsonl"
    pred.write_text(Path(PRED).read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    code, _, err = run_main("evaluate", "--gold", GOLD, "--pred", str(pred))
    assert code == 2
    assert f"{pred}:4: invalid JSON" in err


def test_gold_documents_missing_from_the_predictions_are_counted_as_missed_with_a_warning(
    run_main: RunMain, tmp_path: Path
) -> None:
    lines = Path(PRED).read_text(encoding="utf-8").splitlines()
    partial = tmp_path / "partial.jsonl"
    partial.write_text(lines[0] + "\n", encoding="utf-8")
    gold_docs = [json.loads(line) for line in Path(GOLD).read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = json.loads(lines[0])["id"]
    missing_mentions = sum(len(d["entities"]) for d in gold_docs if d["id"] != kept)
    code, out, err = run_main("evaluate", "--gold", GOLD, "--pred", partial, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["unpredicted_documents"] == len(gold_docs) - 1
    assert report["overall"]["strict"]["missed"] >= missing_mentions
    assert f"gold documents without predictions (their mentions count as missed): {len(gold_docs) - 1}" in err
