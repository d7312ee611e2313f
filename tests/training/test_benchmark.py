"""``bioner benchmark`` on the encoder fixtures with a tiny random BERT: the matrix, reuse, resume, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError
from bioner.training import benchmark as benchmark_module
from bioner.training.benchmark import COMMAND_LOG, TRAINED_MARK, command_line, load_benchmark, run_benchmark, select

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"


def _write(folder: Path, backbone: Path, extra: str = "") -> Path:
    (folder / "tiny.toml").write_text(
        f'[model]\nbackend = "encoder"\nbackbone = "{backbone}"\nlabels = ["Disease", "Gene"]\n'
        "[train]\nepochs = 2\nbatch_size = 4\nlearning_rate = 3e-3\npatience = 0\n",
        encoding="utf-8",
    )
    path = folder / "bench.toml"
    path.write_text(
        'name = "tiny"\ncorpora = ["toy"]\nseeds = [1]\nsplits = ["dev", "test"]\nsamples = 50\ntrain_limit = 4\n'
        f"{extra}"
        '[[system]]\nname = "plain"\nconfig = "tiny.toml"\n'
        '[[system]]\nname = "crf"\nconfig = "tiny.toml"\nset = ["model.head=crf", "model.context=8"]\n'
        f'[files.toy]\ntrain = "{FIXTURES / "train.jsonl"}"\ndev = "{FIXTURES / "dev.jsonl"}"\n'
        f'test = "{FIXTURES / "test.jsonl"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_a_benchmark_trains_tests_compares_and_reuses_its_runs(
    tiny_backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_benchmark(_write(tmp_path, tiny_backbone))
    out = tmp_path / "out"
    cells = run_benchmark(bench, out)
    assert sorted((c.system, c.split) for c in cells) == [
        ("crf", "dev"),
        ("crf", "test"),
        ("plain", "dev"),
        ("plain", "test"),
    ]
    mark = json.loads((out / "crf" / "toy" / "seed-1" / TRAINED_MARK).read_text())
    assert mark["training_documents"] == 4  # train_limit, stated in each run folder
    crf_config = (out / "crf" / "toy" / "seed-1" / "config.toml").read_text()
    assert 'head = "crf"' in crf_config and "context = 8" in crf_config and "seed = 1" in crf_config
    for cell in cells:
        low, high = cell.f1_interval
        assert 0.0 <= low <= cell.report.overall["strict"].f1 <= high <= 1.0
        assert (cell.comparison is None) == (cell.system == "plain")
    table = (out / "benchmark-test.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| toy")]
    assert len(rows) == 2 and "reference" in rows[0] and rows[1].startswith("| toy | crf | 1 |")
    assert "strict F1 by length 1 / 2 / 3+" in table and "ms / doc" in table
    assert (out / "benchmark-dev.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((out / "results.json").read_text())
    assert len(results["cells"]) == 4 and results["cells"][0]["scores"]["by_length"]["3+"]

    # a second run trains nothing and gives the same table
    def no_training(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a finished cell was trained again")

    monkeypatch.setattr(benchmark_module, "fit", no_training)
    run_benchmark(bench, out)
    assert (out / "benchmark-test.md").read_text() == table

    # a model trained elsewhere is tested as it is, its folder untouched
    trained = out / "plain" / "toy" / "seed-1"
    before = sorted(p.name for p in trained.iterdir())
    extra = f'[[system]]\nname = "elsewhere"\nmodel = "{trained}"\n'
    (tmp_path / "more.toml").write_text(
        (tmp_path / "bench.toml").read_text().replace("[files.toy]", extra + "[files.toy]")
    )
    more = run_benchmark(load_benchmark(tmp_path / "more.toml"), out)  # plain and crf reused, not trained
    scores = {(c.system, c.split): c.report.overall["strict"].f1 for c in more}
    assert scores[("elsewhere", "test")] == scores[("plain", "test")]
    assert sorted(p.name for p in trained.iterdir()) == before

    # a cell killed during training (checkpoint, no mark) resumes from its checkpoint
    calls: list[bool] = []
    monkeypatch.setattr(benchmark_module, "fit", lambda *a, **k: calls.append(k["resume"]) or _Result())
    (out / "plain" / "toy" / "seed-1" / TRAINED_MARK).unlink()
    run_benchmark(bench, out)
    assert calls == [True]


class _Result:
    stopped, best_epoch = "epochs", 2

    def __iter__(self) -> Any:
        return iter((None, self))


def test_bad_benchmark_files_are_one_line_errors(tiny_backbone: Path, tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="unknown key 'sytems'"):
        load_benchmark(_write(tmp_path, tiny_backbone, "sytems = 1\n"))
    with pytest.raises(BionerError, match="reference 'nobody' is none of the systems"):
        load_benchmark(_write(tmp_path, tiny_backbone, 'reference = "nobody"\n'))
    with pytest.raises(BionerError, match="splits: 'train'"):
        (tmp_path / "bad.toml").write_text('corpora = ["x"]\nsplits = ["train"]\n[[system]]\nname = "a"\n')
        load_benchmark(tmp_path / "bad.toml")
    with pytest.raises(BionerError, match="no such benchmark file"):
        load_benchmark(tmp_path / "missing.toml")


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "configs" / "benchmarks").glob("*.toml")))
def test_the_shipped_benchmark_configs_resolve_to_valid_training_configs(path: Path) -> None:
    bench = load_benchmark(path)
    for system in bench.systems:
        scripts = [part for part in system.command if part.endswith(".py")]
        assert system.workdir is None or all((system.workdir / script).is_file() for script in scripts)
        for corpus in bench.corpora:
            config = benchmark_module.cell_config(system, corpus, bench.seeds[0], bench)
            assert config.data.corpus == corpus and config.train.seed == bench.seeds[0]


def test_a_system_naming_a_missing_model_folder_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bench.toml"
    path.write_text('corpora = ["ncbi-disease"]\n[[system]]\nname = "old"\nmodel = "nowhere"\n', encoding="utf-8")
    bench = load_benchmark(path)  # loads: the folder may be made later
    with pytest.raises(BionerError, match="nowhere is not a trained model folder"):
        run_benchmark(bench, tmp_path / "out")


ORACLE = """import json, sys
from pathlib import Path
# An outside system for the tests: copies the gold test documents ("perfect") or empties them ("empty").
mode, test, output = sys.argv[1:]
out = Path(output)
out.mkdir(parents=True, exist_ok=True)
with (out.parent / "runs.txt").open("a") as runs:
    runs.write(mode + "\\n")
if mode == "fail":
    print("the model could not be loaded")
    sys.exit(3)
if mode != "silent":
    with open(test) as gold, (out / "predictions-test.jsonl").open("w") as pred:
        for line in gold:
            doc = json.loads(line)
            doc["entities"] = doc["entities"] if mode == "perfect" else []
            pred.write(json.dumps(doc) + "\\n")
"""


def _outside(folder: Path, *modes: str, extra: str = "") -> Path:
    """A benchmark of outside systems only (no training), one per mode of the oracle script beside it."""
    (folder / "oracle.py").write_text(ORACLE, encoding="utf-8")
    systems = "".join(
        f'[[system]]\nname = "{mode}"\ncommand = ["{{python}}", "oracle.py", "{mode}", "{{test}}", "{{output}}"]\n'
        for mode in modes
    )
    path = folder / "outside.toml"
    path.write_text(
        f'name = "outside"\ncorpora = ["toy"]\nseeds = [7]\nsamples = 50\n{extra}{systems}'
        f'[files.toy]\ntrain = "{FIXTURES / "train.jsonl"}"\ndev = "{FIXTURES / "dev.jsonl"}"\n'
        f'test = "{FIXTURES / "test.jsonl"}"\n',
        encoding="utf-8",
    )
    return path


def test_an_outside_command_is_scored_by_the_same_protocol_and_run_once(tmp_path: Path) -> None:
    bench = load_benchmark(_outside(tmp_path, "perfect", "empty"))
    out = tmp_path / "out"
    cells = {c.system: c for c in run_benchmark(bench, out)}
    assert cells["perfect"].report.overall["strict"].f1 == 1.0 and cells["perfect"].comparison is None
    assert cells["empty"].report.overall["strict"].f1 == 0.0
    assert cells["empty"].comparison is not None and cells["empty"].comparison["delta"] == -1.0
    folder = out / "perfect" / "toy" / "seed-7"
    assert (folder / COMMAND_LOG).is_file() and (folder / "predictions-test.jsonl").is_file()
    table = (out / "benchmark-test.md").read_text()
    assert "| toy | perfect | 7 |" in table and "| – | reference |" in table  # no timing sidecar: "–"
    run_benchmark(bench, out)  # the predictions are there: nothing runs again
    assert (out / "perfect" / "toy" / "runs.txt").read_text() == "perfect\n"

    # part of the matrix: without the reference nothing is compared, and the table says so
    alone = run_benchmark(select(bench, systems=["empty"]), tmp_path / "part")
    assert [c.comparison for c in alone] == [None]
    assert "| – |\n" in (tmp_path / "part" / "benchmark-test.md").read_text()


def test_an_outside_command_that_fails_or_writes_nothing_is_a_one_line_error(tmp_path: Path) -> None:
    failing = load_benchmark(_outside(tmp_path, "fail"))
    with pytest.raises(BionerError, match=r"'fail' on toy \(seed 7\) exited with 3 .*: the model could not be loaded$"):
        run_benchmark(failing, tmp_path / "out")
    silent = load_benchmark(_outside(tmp_path, "silent"))
    with pytest.raises(BionerError, match=r"finished without writing .*predictions-test\.jsonl"):
        run_benchmark(silent, tmp_path / "out")


def test_command_systems_are_checked_when_the_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bench.toml"
    cases = {
        'command = ["run", "{corpus}", "{epochs}"]': r"unknown placeholder \{epochs\}",
        'command = ["run"]\nconfig = "x.toml"': "a command system takes no 'config'",
        "command = []": "command must be a non-empty list of strings",
        'command = ["{corpus"]': "command part '{corpus'",
    }
    for body, message in cases.items():
        path.write_text(f'corpora = ["ncbi-disease"]\n[[system]]\nname = "x"\n{body}\n', encoding="utf-8")
        with pytest.raises(BionerError, match=message):
            load_benchmark(path)
    path.write_text('corpora = ["ncbi-disease"]\n[[system]]\nname = "x"\ncommand = ["run", "{test}"]\n')
    bench = load_benchmark(path)
    with pytest.raises(BionerError, match=r"\{test\} is filled in only for a corpus given as \[files.NAME\]"):
        command_line(bench.systems[0], "ncbi-disease", 1, tmp_path, bench)
    with pytest.raises(BionerError, match="no corpus 'bc5cdr' in the benchmark"):
        select(bench, corpora=["bc5cdr"])
    with pytest.raises(BionerError, match="no system 'y'"):
        select(bench, systems=["y"])
