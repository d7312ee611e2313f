"""Concept ID matching and end-to-end mention + ID scores, in evaluate() and compare()."""

from __future__ import annotations

import pytest

from bioner.evaluation.evaluate import evaluate
from bioner.evaluation.ids import id_scores, id_set, ids_match
from bioner.evaluation.significance import compare
from bioner.types import Document, entity_at

TEXT = "Breast cancer and gout in BRCA1 carriers."


def _doc(*entities: tuple[int, int, str, str | None]) -> Document:
    return Document("d", TEXT, tuple(entity_at(TEXT, s, e, label, id=i) for s, e, label, i in entities))


GOLD = _doc((0, 13, "Disease", "MESH:D001943"), (18, 22, "Disease", "D006073"), (26, 31, "Gene", "672"))


def test_id_fields_compare_without_prefixes_and_by_any_shared_identifier() -> None:
    assert id_set("MESH:D001943|OMIM:114480") == {"D001943", "114480"}
    assert ids_match("D001943", "MESH:D001943") and ids_match("OMIM:114480", "C1|114480")
    assert ids_match(None, "-1") and not ids_match("D1", None) and not ids_match("D1", "D2")


def test_a_prediction_is_right_only_with_span_type_and_id() -> None:
    pred = _doc(
        (0, 13, "Disease", "D001943"),  # right
        (18, 22, "Disease", "D999999"),  # right span and type, wrong concept
        (26, 31, "Disease", "672"),  # wrong type
    )
    scores = id_scores([GOLD], [pred])
    assert (scores.overall.correct, scores.overall.incorrect) == (1, 1)
    assert (scores.overall.missed, scores.overall.spurious) == (1, 1)
    assert scores.overall.precision == pytest.approx(1 / 3) and scores.overall.recall == pytest.approx(1 / 3)
    assert scores.per_label["Disease"].correct == 1 and scores.per_label["Gene"].missed == 1
    assert scores.linking_accuracy == pytest.approx(0.5)


def test_evaluate_reports_ids_when_asked() -> None:
    report = evaluate([GOLD], [GOLD], ids=True)
    assert report.ids is not None and report.ids.overall.f1 == 1.0
    assert report.to_dict()["ids"]["overall"]["f1"] == 1.0
    assert "Mention + concept ID" in report.to_markdown()
    assert evaluate([GOLD], [GOLD]).ids is None and "ids" not in evaluate([GOLD], [GOLD]).to_dict()


def test_compare_scores_ids_end_to_end() -> None:
    wrong_ids = _doc((0, 13, "Disease", "D1"), (18, 22, "Disease", "D2"), (26, 31, "Gene", "3"))
    spans = compare([GOLD], [GOLD], [wrong_ids], n=20)
    assert spans.delta == 0.0
    with_ids = compare([GOLD], [GOLD], [wrong_ids], n=20, ids=True)
    assert with_ids.f1_a == 1.0 and with_ids.f1_b == 0.0 and with_ids.scheme == "strict+ids"
