"""``bioner corpus list`` and ``bioner corpus stats`` against a hand-built corpus (the loader is replaced)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

import bioner.cli
from bioner import corpora
from bioner.cli.app import app
from bioner.errors import Report
from bioner.formats import read_documents
from bioner.stats import corpus_stats
from bioner.types import Corpus, Document, entity_at

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only


TEXT = "Tamoxifeno y cáncer de mama; BRCA1 en cáncer."


def tiny_corpus(splits: Sequence[str]) -> Corpus:
    doc = Document(
        "t1",
        TEXT,
        (
            entity_at(TEXT, 0, 10, "Chemical"),
            entity_at(TEXT, 13, 27, "Disease"),
            entity_at(TEXT, 13, 19, "Disease"),
            entity_at(TEXT, 29, 34, "Gene"),
        ),
    )
    every = {"train": [doc], "dev": [], "test": [Document("t2", "Sin menciones.")]}
    return Corpus("tiny", {s: every[s] for s in splits}, ("Chemical", "Disease", "Gene"), ["dev carved from train"])


@pytest.fixture
def fake_loader(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the corpus loader; each call is recorded, and it reports one tolerated oddity."""
    calls: list[dict[str, Any]] = []

    def load(
        name: str,
        splits: Sequence[str] | None = None,
        data_dir: str | Path | None = None,
        report: Report | None = None,
    ) -> Corpus:
        calls.append({"name": name, "splits": splits, "data_dir": data_dir})
        if report is not None:
            report.warn("offsets realigned", 2)
        return tiny_corpus(splits or ("train", "dev", "test"))

    monkeypatch.setattr(corpora, "load_corpus", load)
    return calls


def invoke(*args: str) -> Any:
    bioner.cli.load_verbs()
    return CliRunner().invoke(app, list(args))


def test_stats_json_is_the_corpus_stats_and_nothing_else(fake_loader: list[dict[str, Any]]) -> None:
    result = invoke("corpus", "stats", "tiny", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == corpus_stats(tiny_corpus(("train", "dev", "test")))
    assert set(data) == {"corpus", "notes", "labels", "splits"}
    train = data["splits"]["train"]
    assert train["mentions"] == {"Chemical": 1, "Disease": 2, "Gene": 1}
    assert (train["nested"], train["overlapping"]) == (1, 0)
    assert data["splits"]["dev"]["documents"] == 0
    assert "warning: offsets realigned: 2" in result.stderr
    assert fake_loader == [{"name": "tiny", "splits": None, "data_dir": None}]


def test_stats_selected_splits_reach_the_loader(fake_loader: list[dict[str, Any]], tmp_path: Path) -> None:
    result = invoke("corpus", "stats", "tiny", "--split", "test", "-s", "train", "--json", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["splits"]) == ["test", "train"]
    assert fake_loader == [{"name": "tiny", "splits": ["test", "train"], "data_dir": tmp_path}]


def test_stats_table_shows_splits_labels_and_notes(fake_loader: list[dict[str, Any]]) -> None:
    result = invoke("corpus", "stats", "tiny")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "tiny: splits" in out
    for split in ("train", "dev", "test"):
        assert f"tiny {split}: mentions by label" in out
    assert "note: dev carved from train" in out
    assert "case-sensitive" in out
    assert "offsets realigned" not in out and "offsets realigned" in result.stderr


def test_stats_plot_writes_pngs(fake_loader: list[dict[str, Any]], tmp_path: Path) -> None:
    result = invoke("corpus", "stats", "tiny", "--json", "--plot", str(tmp_path / "plots"))
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the paths go to stderr, stdout stays pure JSON
    for name in ("tiny-unique-entities.png", "tiny-correlation.png"):
        path = tmp_path / "plots" / name
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f"wrote {path}" in result.stderr


def test_list_shows_every_corpus() -> None:
    result = invoke("corpus", "list")
    assert result.exit_code == 0, result.output
    for name, spec in corpora.CORPORA.items():
        assert name in result.stdout
        assert spec.language in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("corpus", "stats", "no-such-corpus"), "unknown corpus 'no-such-corpus'"),
        (("corpus", "stats", "bc5cdr", "--split", "validation"), "unknown split 'validation'"),
    ],
)
def test_bad_names_are_one_line_errors(run_main: RunMain, args: tuple[str, ...], message: str) -> None:
    code, out, err = run_main(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("bioner: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_split_in_a_loaded_corpus_is_an_error(
    run_main: RunMain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(corpora, "load_corpus", lambda name, **_: tiny_corpus(("test",)))
    code, _, err = run_main("corpus", "stats", "tiny", "--split", "dev")
    assert code == 2
    assert "corpus 'tiny' has no split 'dev'; it has: test" in err


def test_bc5cdr_test_split_end_to_end() -> None:
    """The issue's acceptance check; the corpora must be there (CI has ../shared beside the clone)."""
    result = invoke("corpus", "stats", "bc5cdr", "--split", "test", "--json")
    assert result.exit_code == 0, result.output
    test = json.loads(result.stdout)["splits"]["test"]
    assert test["documents"] == 500
    assert test["mentions"] == {"Chemical": 5385, "Disease": 4424}
    assert test["mentions_total"] == 9809


def test_export_writes_the_split_as_bioner_reads_it(fake_loader: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "train.conll"
    result = invoke("corpus", "export", "tiny", "train", str(out))
    assert result.exit_code == 0, result.output
    assert fake_loader[-1]["splits"] == ["train"]
    # CoNLL holds no nested mentions: the loss is reported, and what fits is written
    assert "warning: offsets realigned: 2" in result.stderr
    assert "lost: nested or overlapping entities: 1" in result.stderr
    assert "wrote 1 documents, 4 entities" in result.stderr
    [doc] = read_documents(out)
    assert [(e.text, e.label) for e in doc.entities] == [
        ("Tamoxifeno", "Chemical"),
        ("cáncer de mama", "Disease"),
        ("BRCA1", "Gene"),
    ]
    jsonl = tmp_path / "train.jsonl"
    assert invoke("corpus", "export", "tiny", "train", str(jsonl)).exit_code == 0
    assert list(read_documents(jsonl)) == tiny_corpus(("train",)).splits["train"]
