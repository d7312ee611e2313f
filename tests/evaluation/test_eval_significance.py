"""Paired bootstrap and approximate randomization: vectorised counts agree with re-scoring every resample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bioner.errors import BionerError
from bioner.evaluation.evaluate import SCHEMES, evaluate
from bioner.evaluation.matching import Scheme
from bioner.evaluation.significance import approximate_randomization, compare, paired_bootstrap
from bioner.formats import read_documents
from bioner.types import Document, Entity, entity_at

FIXTURES = Path(__file__).parent.parent / "fixtures" / "evaluation"
GOLD = list(read_documents(FIXTURES / "gold.jsonl", "jsonl"))
A = list(read_documents(FIXTURES / "pred_a.jsonl", "jsonl"))
B = list(read_documents(FIXTURES / "pred_b.jsonl", "jsonl"))


def _renamed(docs: dict[str, Document], order: np.ndarray, gold: list[Document]) -> list[Document]:
    """The documents at ``order`` (gold positions), each copy under its own id, as a resample needs."""
    out = []
    for k, i in enumerate(order):
        d = docs.get(gold[i].id)
        if d is not None:
            out.append(Document(f"{k}", d.text, d.entities))
    return out


def _f1(gold: list[Document], pred: list[Document], scheme: Scheme) -> float:
    return evaluate(gold, pred).overall[scheme].f1


@pytest.mark.parametrize("scheme", SCHEMES)
def test_bootstrap_equals_rescoring_each_resample(scheme: Scheme) -> None:
    n, seed = 40, 7
    picks = np.random.default_rng(seed).integers(0, len(GOLD), size=(n, len(GOLD)))
    by_id_a, by_id_b = {d.id: d for d in A}, {d.id: d for d in B}
    deltas = []
    for order in picks:
        gold = _renamed({d.id: d for d in GOLD}, order, GOLD)
        deltas.append(
            _f1(gold, _renamed(by_id_a, order, GOLD), scheme) - _f1(gold, _renamed(by_id_b, order, GOLD), scheme)
        )
    delta, low, high = paired_bootstrap(GOLD, A, B, scheme, n=n, seed=seed)
    assert delta == pytest.approx(_f1(GOLD, A, scheme) - _f1(GOLD, B, scheme), abs=1e-12)
    assert (low, high) == pytest.approx(tuple(np.percentile(deltas, [2.5, 97.5])), abs=1e-12)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_randomization_equals_rescoring_each_swap(scheme: Scheme) -> None:
    n, seed = 40, 3
    swaps = np.random.default_rng(seed).random((n, len(GOLD))) < 0.5
    by_id_a, by_id_b = {d.id: d for d in A}, {d.id: d for d in B}
    observed = abs(_f1(GOLD, A, scheme) - _f1(GOLD, B, scheme))
    at_least = 0
    for swap in swaps:
        a = [x for g, s in zip(GOLD, swap, strict=True) if (x := (by_id_b if s else by_id_a).get(g.id))]
        b = [x for g, s in zip(GOLD, swap, strict=True) if (x := (by_id_a if s else by_id_b).get(g.id))]
        at_least += abs(_f1(GOLD, a, scheme) - _f1(GOLD, b, scheme)) >= observed - 1e-12
    assert approximate_randomization(GOLD, A, B, scheme, n=n, seed=seed) == (at_least + 1) / (n + 1)


def test_compare_reports_each_systems_f1_as_evaluate_does() -> None:
    for scheme in SCHEMES:
        result = compare(GOLD, A, B, scheme, n=50)
        assert result.f1_a == pytest.approx(evaluate(GOLD, A).overall[scheme].f1, abs=1e-12)
        assert result.f1_b == pytest.approx(evaluate(GOLD, B).overall[scheme].f1, abs=1e-12)
        assert result.ci_low <= result.ci_high


def test_results_depend_only_on_the_seed() -> None:
    assert compare(GOLD, A, B, n=200, seed=1) == compare(GOLD, A, B, n=200, seed=1)
    assert paired_bootstrap(GOLD, A, B, n=200, seed=1) != paired_bootstrap(GOLD, A, B, n=200, seed=2)


def test_identical_systems_differ_by_nothing() -> None:
    result = compare(GOLD, A, A, n=100)
    assert (result.delta, result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_a_clearly_better_system_is_significant() -> None:
    text = "BRCA1 and TP53."
    gold = [Document(f"d{i}", text).with_entities(_genes(text)) for i in range(40)]
    worse = [d.with_entities(d.entities[:1]) if i % 2 else d for i, d in enumerate(gold)]
    result = compare(gold, gold, worse, n=500)
    assert result.delta > 0 and result.ci_low > 0
    assert result.p_value < 0.01


def _genes(text: str) -> list[Entity]:
    return [entity_at(text, 0, 5, "Gene"), entity_at(text, 10, 14, "Gene")]


def test_bad_arguments_are_user_errors() -> None:
    with pytest.raises(BionerError, match="no gold documents"):
        compare([], [], [])
    with pytest.raises(BionerError, match="samples must be positive"):
        compare(GOLD, A, B, n=0)
    with pytest.raises(BionerError, match="confidence"):
        compare(GOLD, A, B, confidence=1.5)
    with pytest.raises(BionerError, match="unknown scheme"):
        compare(GOLD, A, B, scheme="lenient")  # type: ignore[arg-type]
