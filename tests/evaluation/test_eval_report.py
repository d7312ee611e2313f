"""evaluate() on the hand-checked fixture: document pairing, per-label and per-length tables, JSON, Markdown, plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.errors import BionerError
from bioner.evaluation.evaluate import SCHEMES, EvalReport, Scores, evaluate
from bioner.evaluation.plots import save_plots
from bioner.formats import read_documents
from bioner.timing import Timing
from bioner.types import Document, entity_at

FIXTURES = Path(__file__).parent.parent / "fixtures" / "evaluation"


def load(name: str) -> list[Document]:
    return list(read_documents(FIXTURES / name, "jsonl"))


@pytest.fixture(scope="module")
def report() -> EvalReport:
    return evaluate(load("gold.jsonl"), load("pred_a.jsonl"))


def row(s: Scores) -> tuple[int, int, int, int, int]:
    return (s.correct, s.incorrect, s.partial, s.missed, s.spurious)


def test_overall_counts_match_the_hand_count(report: EvalReport) -> None:
    # d4 has no prediction: its mention is missed
    assert report.documents == 4
    assert {scheme: row(s) for scheme, s in report.overall.items()} == {
        "strict": (5, 3, 0, 3, 0),
        "exact": (6, 2, 0, 3, 0),
        "partial": (6, 0, 2, 3, 0),
        "type": (7, 1, 0, 3, 0),
    }
    strict, partial = report.overall["strict"], report.overall["partial"]
    assert (strict.possible, strict.actual) == (11, 8)
    assert strict.precision == 5 / 8 and strict.recall == 5 / 11
    assert strict.f1 == pytest.approx(2 * (5 / 8) * (5 / 11) / (5 / 8 + 5 / 11), abs=1e-15)
    assert partial.precision == 7 / 8 and partial.recall == 7 / 11


def test_per_label_counts_gold_and_predictions_under_their_own_label(report: EvalReport) -> None:
    strict = {label: row(s["strict"]) for label, s in report.per_label.items()}
    # "women" is gold Species, predicted Chemical: missed under Species, spurious under Chemical
    assert strict == {
        "Chemical": (1, 1, 0, 1, 1),
        "Disease": (2, 1, 0, 1, 0),
        "Gene": (1, 0, 0, 1, 0),
        "Species": (1, 0, 0, 1, 0),
    }
    assert report.macro["strict"]["precision"] == pytest.approx((1 / 3 + 2 / 3 + 1 + 1) / 4, abs=1e-15)
    assert report.macro["strict"]["recall"] == pytest.approx((1 / 3 + 2 / 4 + 1 / 2 + 1 / 2) / 4, abs=1e-15)


def test_by_length_buckets_gold_by_gold_length_and_predictions_by_theirs(report: EvalReport) -> None:
    strict = {bucket: row(s["strict"]) for bucket, s in report.by_length.items()}
    # gold "tumour" (1 token) is matched to "tumour growth" (2 tokens): missed in "1", spurious in "2";
    # "α-tubulin", "5-ASA" and "Crohn's disease" are 3+ word tokens (punctuation is a token)
    assert strict == {"1": (2, 1, 0, 1, 0), "2": (2, 0, 0, 0, 1), "3+": (1, 1, 0, 3, 0)}
    assert report.by_length["3+"]["strict"].recall == 1 / 5
    assert report.by_length["2"]["strict"].precision == 2 / 3


def test_json_has_the_documented_shape(report: EvalReport) -> None:
    data = json.loads(json.dumps(report.to_dict()))
    assert data["documents"] == 4
    keys = {"precision", "recall", "f1", "correct", "incorrect", "partial", "missed", "spurious"}
    for by_scheme in [data["overall"], *data["per_label"].values(), *data["by_length"].values()]:
        assert set(by_scheme) == set(SCHEMES)
        assert all(keys <= set(scores) for scores in by_scheme.values())
    assert list(data["by_length"]) == ["1", "2", "3+"]
    assert list(data["per_label"]) == ["Chemical", "Disease", "Gene", "Species"]
    assert "timing" not in data


def test_timing_is_carried_into_json_and_markdown() -> None:
    timing = Timing.from_latencies([0.01, 0.03], [5, 7])
    report = evaluate(load("gold.jsonl"), load("pred_a.jsonl"), timing=timing)
    assert report.to_dict()["timing"]["mean_ms"] == pytest.approx(20.0)
    assert "| 2 | 20.00 | 20.00 | 29.00 |" in report.to_markdown()


def test_markdown_lists_every_scheme_label_and_bucket(report: EvalReport) -> None:
    text = report.to_markdown()
    assert "| strict | 62.50 | 45.45 | 52.63 | 5 | 3 | 0 | 3 | 0 |" in text
    assert "| Chemical | 3 | 3 | 33.33 | 33.33 | 33.33 |" in text
    assert "| 3+ | 5 | 2 | 50.00 | 20.00 | 28.57 |" in text
    assert "*macro*" in text


def test_plots_are_written_as_png(report: EvalReport, tmp_path: Path) -> None:
    paths = save_plots(report, tmp_path / "plots")
    assert [p.name for p in paths] == ["f1_by_length.png", "per_label.png"]
    for p in paths:
        assert p.read_bytes().startswith(b"\x89PNG")


def test_a_report_without_labels_still_plots(tmp_path: Path) -> None:
    empty = evaluate([Document("d", "nothing here")], [])
    assert empty.per_label == {}
    assert empty.macro["strict"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert all(p.is_file() for p in save_plots(empty, tmp_path))


def test_zero_denominators_give_zero() -> None:
    report = evaluate([Document("d", "text")], [Document("d", "text")])
    assert report.overall["strict"] == Scores()
    assert Scores.from_counts(0, 0, 0, 2, 0).f1 == 0.0


def test_labels_restrict_scoring_and_fix_the_table_rows() -> None:
    report = evaluate(load("gold.jsonl"), load("pred_a.jsonl"), labels=["Species", "Protein"])
    assert list(report.per_label) == ["Species", "Protein"]
    assert row(report.overall["strict"]) == (1, 0, 0, 1, 0)  # Mus musculus found, women missed
    assert report.ignored == {"gold": 9, "predicted": 7}
    assert report.per_label["Protein"]["strict"] == Scores()
    assert "Left out (label not asked for): 9 gold, 7 predicted mentions." in report.to_markdown()


TEXT = "BRCA1 is a gene."


def doc(doc_id: str, text: str = TEXT, *spans: tuple[int, int, str]) -> Document:
    return Document(doc_id, text, tuple(entity_at(text, s, e, label) for s, e, label in spans))


def test_a_prediction_for_an_unknown_document_is_an_error() -> None:
    with pytest.raises(BionerError, match="predictions hold document 'x' that the gold does not have"):
        evaluate([doc("a")], [doc("a"), doc("x")])


def test_a_prediction_on_another_text_is_an_error() -> None:
    with pytest.raises(BionerError, match="predicted text differs"):
        evaluate([doc("a")], [doc("a", "BRCA1 is a gene!")])


def test_a_repeated_document_id_is_an_error() -> None:
    with pytest.raises(BionerError, match="gold hold document id 'a' twice"):
        evaluate([doc("a"), doc("a")], [])


def test_documents_are_paired_by_id_not_position() -> None:
    gold = [doc("a", TEXT, (0, 5, "Gene")), doc("b")]
    pred = [doc("b"), doc("a", TEXT, (0, 5, "Gene"))]
    assert evaluate(gold, pred).overall["strict"].f1 == 1.0
