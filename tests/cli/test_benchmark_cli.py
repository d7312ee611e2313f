"""``bioner benchmark``: part of a matrix by --corpus/--system, and a failing outside system as one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"
# Two outside systems that need no training: one repeats the gold test file, one exits with an error.
BENCH = """name = "two"
corpora = ["toy"]
samples = 20
[[system]]
name = "gold"
command = ["{python}", "-c", "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])", "{test}",
           "{output}/predictions-test.jsonl"]
[[system]]
name = "broken"
command = ["{python}", "-c", "import sys; sys.exit('no weights found')"]
"""


def _bench(tmp_path: Path) -> Path:
    path = tmp_path / "two.toml"
    files = f'[files.toy]\ntrain = "{FIXTURES / "train.jsonl"}"\ndev = "{FIXTURES / "dev.jsonl"}"\n'
    path.write_text(BENCH + files + f'test = "{FIXTURES / "test.jsonl"}"\n', encoding="utf-8")
    return path


def test_a_part_of_the_matrix_runs_alone_into_the_shared_output(run_main: RunMain, tmp_path: Path) -> None:
    code, out, err = run_main(
        "benchmark", _bench(tmp_path), "--system", "gold", "--corpus", "toy", "-o", tmp_path, "-q"
    )
    assert code == 0, err
    assert "| toy | gold | 42 | 1.000 | 1.000 | 1.000 |" in out
    cells = json.loads((tmp_path / "results.json").read_text())["cells"]
    assert [c["system"] for c in cells] == ["gold"]  # broken was not run


def test_a_failing_system_or_a_wrong_name_is_one_line_and_exit_2(run_main: RunMain, tmp_path: Path) -> None:
    code, _, err = run_main("benchmark", _bench(tmp_path), "-o", tmp_path, "-q")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "system 'broken' on toy (seed 42) exited with 1" in err and err.rstrip().endswith(": no weights found")
    code, _, err = run_main("benchmark", _bench(tmp_path), "--system", "nobody")
    assert code == 2 and err.strip() == "bioner: error: two: no system 'nobody' in the benchmark (it has: gold, broken)"
