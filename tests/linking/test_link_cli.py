"""``bioner link index | evaluate | apply`` and ``bioner evaluate --ids`` / ``bioner compare --ids``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bioner.formats import read_documents, write_documents
from bioner.linking.index import load_index
from bioner.types import Document, entity_at

if TYPE_CHECKING:
    from cli.conftest import RunMain

pytest_plugins = ["cli.conftest"]

FIXTURES = Path(__file__).parents[1] / "fixtures" / "linking"
TEXT = "Ataxia telangiectasia (AT) and breast and ovarian cancer. AT is rare."


def _gold(tmp_path: Path) -> Path:
    spans = [
        (0, 21, "D001260"),
        (23, 25, "D001260"),
        (31, 56, "D001943|D010051"),
        (58, 60, "D001260"),
    ]
    doc = Document("p1", TEXT, tuple(entity_at(TEXT, s, e, "Disease", id=i) for s, e, i in spans))
    path = tmp_path / "gold.jsonl"
    write_documents([doc], path)
    return path


@pytest.fixture
def index_folder(run_main: RunMain, tmp_path: Path) -> Path:
    out = tmp_path / "index"
    code, stdout, stderr = run_main(
        "link",
        "index",
        FIXTURES / "medic.txt",
        FIXTURES / "tiny.obo",
        "--type",
        "Disease",
        "--no-dense",
        "-o",
        out,
        "-q",
    )
    assert code == 0, stderr
    assert "Disease: 8 concepts" in stdout and f"wrote {out}" in stdout
    assert "lines with XML character references decoded: 1" in stderr
    return out


def test_index_needs_a_type_for_non_medic_files(run_main: RunMain, tmp_path: Path) -> None:
    code, _, stderr = run_main("link", "index", FIXTURES / "species.tsv", "--no-dense", "-o", tmp_path / "i")
    assert code == 2 and "--type" in stderr and "Traceback" not in stderr


def test_index_refuses_test_splits(run_main: RunMain, tmp_path: Path) -> None:
    code, _, stderr = run_main("link", "index", "corpus:ncbi-disease", "-s", "test", "--no-dense", "-o", tmp_path / "i")
    assert code == 2 and "leak test answers" in stderr


def test_evaluate_gives_accuracy_at_1_and_5(run_main: RunMain, index_folder: Path, tmp_path: Path) -> None:
    code, stdout, stderr = run_main(
        "link", "evaluate", index_folder, "--gold", _gold(tmp_path), "--alpha", "1", "--json"
    )
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["mentions"] == 4 and result["accuracy@1"] == 1.0 and result["linked_as_composite"] == 1
    code, stdout, _ = run_main(
        "link", "evaluate", index_folder, "--gold", _gold(tmp_path), "--alpha", "1", "--no-composite"
    )
    assert code == 0 and "Linked part by part: 0." in stdout and "| *all* | 4 |" in stdout


def test_apply_then_evaluate_ids_end_to_end(run_main: RunMain, index_folder: Path, tmp_path: Path) -> None:
    gold = _gold(tmp_path)
    unlinked = tmp_path / "mentions.jsonl"
    write_documents(
        [
            d.with_entities(e.__class__(e.start, e.end, e.label, e.text) for e in d.entities)
            for d in read_documents(gold)
        ],
        unlinked,
    )
    for fmt, name in [
        ("jsonl", "linked.jsonl"),
        ("pubtator", "l.txt"),
        ("bioc-xml", "l.xml"),
        ("bioc-json", "l.json"),
        ("brat", "brat"),
    ]:
        out = tmp_path / name
        code, stdout, stderr = run_main("link", "apply", index_folder, unlinked, out, "--to", fmt, "--alpha", "1")
        assert code == 0, stderr
        assert "mentions linked to a concept: 4" in stderr
        [doc] = read_documents(out, fmt)
        assert [e.id for e in doc.entities] == ["D001260", "D001260", "D001943|D010051", "D001260"], fmt
    code, stdout, stderr = run_main("evaluate", "-g", gold, "-p", tmp_path / "linked.jsonl", "--ids", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["ids"]["overall"]["f1"] == 1.0
    code, stdout, _ = run_main("evaluate", "-g", gold, "-p", unlinked, "--ids")
    assert code == 0 and "| *all* | 4 | 4 | 0.00 | 0.00 | 0.00 | 0 | 4 |" in stdout
    code, stdout, _ = run_main(
        "compare", "-g", gold, "-p", tmp_path / "linked.jsonl", "-p", unlinked, "--ids", "-n", "20"
    )
    assert code == 0 and "strict+ids F1" in stdout and "A  100.00" in stdout and "B    0.00" in stdout
    code, _, stderr = run_main("compare", "-g", gold, "-p", unlinked, "-p", unlinked, "--ids", "--scheme", "exact")
    assert code == 2 and "--ids" in stderr


def test_a_missing_index_is_a_one_line_error(run_main: RunMain, tmp_path: Path) -> None:
    code, _, stderr = run_main("link", "apply", tmp_path / "nowhere", _gold(tmp_path), tmp_path / "o.jsonl")
    assert code == 2 and "not a link index" in stderr and "Traceback" not in stderr


def test_the_built_index_loads(index_folder: Path) -> None:
    index = load_index(index_folder)
    assert index.embedding_model is None and "DOID:1612" in {
        i for ids in index.types["Disease"].concept_ids for i in ids
    }
