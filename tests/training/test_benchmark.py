"""``bioner benchmark`` on the encoder fixtures with a tiny random BERT: the matrix, reuse, resume, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError
from bioner.training import benchmark as benchmark_module
from bioner.training.benchmark import TRAINED_MARK, load_benchmark, run_benchmark

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
        for corpus in bench.corpora:
            config = benchmark_module.cell_config(system, corpus, bench.seeds[0], bench)
            assert config.data.corpus == corpus and config.train.seed == bench.seeds[0]


def test_a_system_naming_a_missing_model_folder_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bench.toml"
    path.write_text('corpora = ["ncbi-disease"]\n[[system]]\nname = "old"\nmodel = "nowhere"\n', encoding="utf-8")
    bench = load_benchmark(path)  # loads: the folder may be made later
    with pytest.raises(BionerError, match="nowhere is not a trained model folder"):
        run_benchmark(bench, tmp_path / "out")
