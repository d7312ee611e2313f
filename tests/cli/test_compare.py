"""``bioner compare``: both systems' F1, the bootstrap interval of the difference and a p-value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

import bioner.cli
from bioner.cli.app import app
from bioner.evaluation.matching import Scheme
from bioner.evaluation.significance import compare
from bioner.formats import read_documents

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only


FIXTURES = Path(__file__).parent.parent / "fixtures" / "evaluation"
GOLD, A, B = (str(FIXTURES / name) for name in ("gold.jsonl", "pred_a.jsonl", "pred_b.jsonl"))

bioner.cli.load_verbs()
runner = CliRunner()


def expected(scheme: Scheme = "strict") -> dict[str, Any]:
    gold, a, b = (list(read_documents(p, "jsonl")) for p in (GOLD, A, B))
    return compare(gold, a, b, scheme=scheme, n=300, seed=5).to_dict()


def test_prints_both_f1_and_the_interval() -> None:
    result = runner.invoke(app, ["compare", "--gold", GOLD, "--pred", A, "--pred", B, "-n", "300", "--seed", "5"])
    assert result.exit_code == 0, result.output
    e = expected()
    lines = result.stdout.splitlines()
    assert lines[0] == "4 documents, strict F1, 300 samples, seed 5"
    assert lines[1] == f"A  {100 * e['f1_a']:6.2f}  {A}"
    assert lines[2] == f"B  {100 * e['f1_b']:6.2f}  {B}"
    assert lines[3] == (
        f"A - B = {100 * e['delta']:+.2f} points, 95% paired bootstrap interval "
        f"[{100 * e['ci_low']:+.2f}, {100 * e['ci_high']:+.2f}]"
    )
    assert lines[4] == f"approximate randomization p = {e['p_value']:.4f}"


def test_json_output() -> None:
    args = ["compare", "--gold", GOLD, "--pred", A, "--pred", B, "-n", "300", "--seed", "5", "--scheme", "partial"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {"a": A, "b": B, **expected("partial")}
    assert data["ci_low"] <= data["ci_high"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pred", A], "give exactly two --pred files"),
        (["--pred", A, "--pred", B, "--scheme", "lenient"], "unknown scheme 'lenient'"),
        (["--pred", A, "--pred", str(FIXTURES / "pred_unknown.jsonl")], "does not have"),
    ],
)
def test_user_errors_exit_2(run_main: RunMain, args: list[str], message: str) -> None:
    code, _, err = run_main("compare", "--gold", GOLD, *args)
    assert code == 2
    assert err.startswith("bioner: error: ") and message in err
