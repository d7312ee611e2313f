"""``bioner annotate-corpus``: shards, the manifest, resuming after a real SIGKILL, bad input, both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import bioner.cli
from bioner.annotate.corpus import KILL_AFTER_ENV, MANIFEST, SUMMARY, read_shards
from bioner.cli.app import app
from bioner.formats import write_documents
from bioner.types import Document

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"

bioner.cli.load_verbs()


@pytest.fixture(scope="session")
def model(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("annotate-model")
    config = folder / "tiny.toml"
    config.write_text(
        f"""[data]
train = "{FIXTURES / "train.jsonl"}"
dev = "{FIXTURES / "dev.jsonl"}"

[model]
backbone = "{tiny_backbone}"

[train]
epochs = 2
batch_size = 4
learning_rate = 3e-3
"""
    )
    result = CliRunner().invoke(app, ["train", str(config), "--output", str(folder / "model"), "-q"])
    assert result.exit_code == 0, result.output
    return folder / "model"


def texts() -> list[str]:
    return [
        json.loads(line)["text"] for name in ("train", "dev", "test") for line in (FIXTURES / f"{name}.jsonl").open()
    ]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """23 documents in four files: two JSONL files (one in a subfolder), a PubTator file and a text file."""
    folder = tmp_path / "input"
    sample = texts()
    jsonl = [Document(f"j{i}", sample[i % len(sample)]) for i in range(9)]
    write_documents(jsonl[:5], folder / "a.jsonl")
    write_documents(jsonl[5:], folder / "sub" / "b.jsonl")
    write_documents([Document(f"p{i}", sample[i % len(sample)]) for i in range(7)], folder / "c.pubtator")
    (folder / "d.txt").write_text("\n".join(sample[:7]) + "\n")
    return folder


def all_ids() -> set[str]:
    """The ids of the :func:`corpus` documents (a text file's lines are ``stem:line``)."""
    return {*(f"j{i}" for i in range(9)), *(f"p{i}" for i in range(7)), *(f"d:{n}" for n in range(1, 8))}


def entities(docs: list[Document]) -> dict[str, list[tuple[int, int, str]]]:
    return {d.id: [(e.start, e.end, e.label) for e in d.entities] for d in docs}


def test_local_engine_writes_every_document_once_in_shards(
    run_main: RunMain, model: Path, corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run_main("annotate-corpus", model, corpus, out, "--shard-size", 3, "-q")
    assert code == 0, err
    docs = list(read_shards(out))
    assert Counter(d.id for d in docs) == Counter(all_ids())
    # a.jsonl 5 docs: 2 shards; b.jsonl 4: 2; c.pubtator 7: 3; d.txt 7: 3
    assert len(list(out.glob("*.jsonl"))) == 10
    assert "annotated 23 documents in 10 shards" in stdout
    summary = json.loads((out / SUMMARY).read_text())
    assert summary["annotated"] == 23 and summary["shards_already_done"] == 0
    code, stdout, err = run_main("annotate-corpus", model, corpus, out, "--shard-size", 3, "-q")
    assert code == 0 and "annotated 0 documents in 0 shards" in stdout
    assert "skipped 10 shards (23 documents): already done" in err
    assert Counter(d.id for d in read_shards(out)) == Counter(all_ids())


def test_a_glob_and_another_shard_format(run_main: RunMain, model: Path, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, err = run_main("annotate-corpus", model, f"{corpus}/**/*.jsonl", out, "--format", "pubtator", "-q")
    assert code == 0, err
    assert sorted(p.name.split(".")[0] for p in out.glob("*.pubtator")) == ["a", "b"]
    assert "annotated 9 documents in 2 shards" in stdout


def test_a_killed_run_resumes_exactly_once(model: Path, corpus: Path, tmp_path: Path) -> None:
    """A real SIGKILL after the second shard; the rerun of the same command completes the rest, once."""
    command = [sys.executable, "-m", "bioner", "annotate-corpus", str(model), str(corpus)]
    options = ["--shard-size", "2", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    killed = subprocess.run(
        [*command, str(tmp_path / "out"), *options], env={**env, KILL_AFTER_ENV: "2"}, capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list((tmp_path / "out").glob("*.jsonl"))) == 2
    resumed = subprocess.run([*command, str(tmp_path / "out"), *options], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "annotated 19 documents in 11 shards" in resumed.stdout
    assert "skipped 2 shards (4 documents): already done" in resumed.stderr
    whole = subprocess.run([*command, str(tmp_path / "whole"), *options], env=env, capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    docs = list(read_shards(tmp_path / "out"))
    assert Counter(d.id for d in docs) == Counter(all_ids())
    assert entities(docs) == entities(list(read_shards(tmp_path / "whole")))


def test_a_rerun_with_other_options_is_refused(run_main: RunMain, model: Path, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_main("annotate-corpus", model, corpus / "a.jsonl", out, "-q")[0] == 0
    code, _, err = run_main("annotate-corpus", model, corpus / "a.jsonl", out, "--shard-size", 2, "-q")
    assert code == 2
    assert err.strip().count("\n") == 0 and "written with shard_size 500, not 2" in err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    code, _, err = run_main("annotate-corpus", model, corpus / "a.jsonl", tmp_path / "other", "-q")
    assert code == 2 and f"no {MANIFEST}" in err


def test_bad_input_is_one_line_naming_the_file_or_skipped_and_counted(
    run_main: RunMain, model: Path, corpus: Path, tmp_path: Path
) -> None:
    (corpus / "notes.odt").write_text("not a format")
    (corpus / "broken.jsonl").write_text('{"id": "x", "text": "fine"}\n{"id": \n')
    code, _, err = run_main("annotate-corpus", model, corpus, tmp_path / "out", "-q")
    assert code == 2 and err.count("\n") == 1
    assert "broken.jsonl:2: invalid JSON" in err
    code, _, err = run_main("annotate-corpus", model, corpus, tmp_path / "out", "--skip-bad", "-q")
    assert code == 0, err
    assert "skipped 2 input files:" in err
    assert "broken.jsonl: " in err and "notes.odt: cannot tell the format" in err
    assert Counter(d.id for d in read_shards(tmp_path / "out")) == Counter(all_ids())
    assert run_main("annotate-corpus", model, tmp_path / "nowhere", tmp_path / "o2", "-q")[2].startswith(
        f"bioner: error: {tmp_path / 'nowhere'}: no such file or folder"
    )


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A local Ray cluster of 3 CPUs (2 model actors and the read tasks) that the runs join by address."""
    import ray

    context = ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    try:
        yield str(context.address_info["address"])  # type: ignore[attr-defined]  # ray.init gives a RayContext
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_a_killed_ray_run_resumes_exactly_once(model: Path, corpus: Path, tmp_path: Path, ray_address: str) -> None:
    """Ray Data with 2 actors: the driver is SIGKILLed after 2 shards, rerun on the cluster, then compared."""
    command = [sys.executable, "-m", "bioner", "annotate-corpus", str(model), str(corpus), str(tmp_path / "out")]
    ray_options = ["--engine", "ray", "--address", ray_address, "--workers", "2", "--shard-size", "2", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    killed = subprocess.run([*command, *ray_options], env={**env, KILL_AFTER_ENV: "2"}, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list((tmp_path / "out").glob("*.jsonl"))) == 2
    resumed = subprocess.run([*command, *ray_options], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "annotated 19 documents in 11 shards" in resumed.stdout
    local = subprocess.run([*command[:-1], str(tmp_path / "local"), "--shard-size", "2", "-q"], env=env)
    assert local.returncode == 0
    docs = list(read_shards(tmp_path / "out"))
    assert Counter(d.id for d in docs) == Counter(all_ids())
    assert entities(docs) == entities(list(read_shards(tmp_path / "local")))
