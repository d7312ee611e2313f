"""``bioner kb build | stats | samples``, the ``dbr`` config shorthand, and ``bioner train`` with DBR on."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bioner.cli import load_verbs
from bioner.cli.app import app
from bioner.errors import BionerError
from bioner.knowledge.kb import load_kb
from bioner.training.config import load_config
from bioner.types import Corpus, Document, entity_at

FIXTURES = Path(__file__).parents[1] / "fixtures"
TRAIN = FIXTURES / "encoder" / "train.jsonl"
DEV = FIXTURES / "encoder" / "dev.jsonl"

load_verbs()
runner = CliRunner()


def _fake_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    def doc(name: str, text: str) -> Document:
        return Document(name, text, (entity_at(text, 0, len(text), "Disease", id="D1"),))

    every = {"train": [doc("a", "asthma")], "dev": [doc("b", "Asthma ")], "test": [doc("c", "gout")]}

    def fake_load(name: str, splits: list[str], data_dir: object = None, report: object = None) -> Corpus:
        return Corpus(name, {s: every[s] for s in splits})

    monkeypatch.setattr("bioner.corpora.load_corpus", fake_load)


def test_build_writes_train_mentions_and_user_names_with_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_corpus(monkeypatch)
    out = tmp_path / "kb.tsv"
    args = [
        "kb",
        "build",
        "-o",
        str(out),
        "-c",
        "toy",
        "-s",
        "train",
        "-s",
        "dev",
        "-f",
        str(FIXTURES / "knowledge" / "user.jsonl"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    kb = load_kb(out)
    asthma = next(e for e in kb if e.name == "asthma")
    assert asthma.count == 2 and asthma.sources == {"toy/train", "toy/dev"} and asthma.ids == {"D1"}
    assert "gout" not in {e.name for e in kb}
    assert "Disease" in result.output
    stats = runner.invoke(app, ["kb", "stats", str(out)])
    assert stats.exit_code == 0 and "3 names" in stats.output


def test_build_refuses_the_test_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_corpus(monkeypatch)
    with pytest.raises(BionerError, match="'test' split"):
        runner.invoke(
            app, ["kb", "build", "-o", str(tmp_path / "kb.tsv"), "-c", "toy", "-s", "test"], catch_exceptions=False
        )
    assert not (tmp_path / "kb.tsv").exists()


def test_samples_print_tagged_dense_sentences() -> None:
    args = ["kb", "samples", "--set", f"data.train={TRAIN}", "--set", "dbr.retriever=tfidf", "-n", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "dense samples (retrieved)" in result.output
    assert "BRCA1/B" in result.output or "cancer/I" in result.output


def test_dbr_shorthand_in_files_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('dbr = "random"\n[data]\ntrain = "t.jsonl"\n')
    assert load_config(path).dbr.mode == "random"
    config = load_config(path, ["dbr=retrieved", "dbr.top_k=3", "dbr.kb=kb.tsv"])
    assert (config.dbr.mode, config.dbr.top_k, config.dbr.kb) == ("retrieved", 3, "kb.tsv")
    with pytest.raises(BionerError, match=r"dbr\.mode must be one of off, retrieved, random"):
        load_config(None, ["dbr=sometimes"])
    with pytest.raises(BionerError, match=r"dbr\.negatives must not be negative"):
        load_config(None, ["dbr.negatives=-1"])
    (tmp_path / "kbdir").mkdir()
    (tmp_path / "d.toml").write_text('[dbr]\nmode = "retrieved"\nkb = "kbdir/kb.tsv"\n')
    assert load_config(tmp_path / "d.toml").dbr.kb == str(tmp_path / "kbdir" / "kb.tsv")


def test_train_with_dbr_retrieved_adds_dense_documents(
    tiny_backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bioner.knowledge.dense import DenseSample
    from bioner.knowledge.dense import training_samples as original

    made: list[int] = []

    def spy(*args: object, **kwargs: object) -> list[DenseSample]:
        samples = original(*args, **kwargs)  # type: ignore[arg-type]
        made.append(len(samples))
        return samples

    monkeypatch.setattr("bioner.training.recipe.training_samples", spy)
    config = tmp_path / "dbr.toml"
    config.write_text(
        f'dbr = "retrieved"\n[data]\ntrain = "{TRAIN}"\ndev = "{DEV}"\n'
        f'[model]\nbackbone = "{tiny_backbone}"\n[train]\nepochs = 1\nbatch_size = 8\n'
    )
    output = tmp_path / "model"
    args = [
        "train",
        str(config),
        "-o",
        str(output),
        "-q",
        "--set",
        "dbr.retriever=tfidf",
        "--set",
        f"dbr.kb={FIXTURES / 'knowledge' / 'user.tsv'}",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert made and made[0] > 0
    saved = tomllib.loads((output / "config.toml").read_text())
    assert saved["dbr"]["mode"] == "retrieved" and saved["dbr"]["retriever"] == "tfidf"
    leaky = ["--set", f"dbr.kb={FIXTURES / 'knowledge' / 'leaky.tsv'}"]
    with pytest.raises(BionerError, match="test split"):
        runner.invoke(app, ["train", str(config), "-o", str(tmp_path / "m2"), "-q", *leaky], catch_exceptions=False)


def test_build_and_stats_output_does_not_depend_on_terminal_width_or_path_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_corpus(monkeypatch)
    monkeypatch.setenv("COLUMNS", "40")
    out = tmp_path / ("a-very-long-folder-name-" * 8) / ("and-another-one-" * 8) / "kb.tsv"
    result = runner.invoke(app, ["kb", "build", "-o", str(out), "-c", "toy", "-s", "train"])
    assert result.exit_code == 0, result.output
    stats = runner.invoke(app, ["kb", "stats", str(out)])
    assert stats.exit_code == 0 and stats.output.splitlines()[0].startswith(f"{out}: ")
    assert "Disease" in result.output and result.output.splitlines()[0].startswith(f"{out}: ")
