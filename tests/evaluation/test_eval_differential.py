"""Differential tests: bioner's scorer against seqeval (flat IOB2) and nervaluate (one-to-one overlaps)."""

from __future__ import annotations

import random

import pytest
from nervaluate import Evaluator
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from bioner.evaluation.evaluate import SCHEMES, evaluate
from bioner.types import Document, Entity

LABELS = ("Gene", "Disease", "Chemical")
TokenSpan = tuple[int, int, str]
"""Tokens ``[start, end)`` and a label."""


def _document(doc_id: str, n_tokens: int, spans: list[TokenSpan]) -> Document:
    """A text of ``n_tokens`` words ``w0 w1 ...``; token spans become character spans."""
    words = [f"w{i}" for i in range(n_tokens)]
    starts, position = [], 0
    for w in words:
        starts.append(position)
        position += len(w) + 1
    text = " ".join(words)
    entities = [
        Entity(starts[s], starts[e - 1] + len(words[e - 1]), label, text[starts[s] : starts[e - 1] + len(words[e - 1])])
        for s, e, label in spans
    ]
    return Document(doc_id, text, tuple(entities))


def _flat_spans(rng: random.Random, n_tokens: int) -> list[TokenSpan]:
    spans: list[TokenSpan] = []
    i = 0
    while i < n_tokens:
        if rng.random() < 0.35:
            length = rng.randint(1, min(4, n_tokens - i))
            spans.append((i, i + length, rng.choice(LABELS)))
            i += length
        i += rng.random() < 0.5
    return spans


def _iob2(n_tokens: int, spans: list[TokenSpan]) -> list[str]:
    tags = ["O"] * n_tokens
    for s, e, label in spans:
        tags[s] = f"B-{label}"
        for i in range(s + 1, e):
            tags[i] = f"I-{label}"
    return tags


@pytest.mark.parametrize("seed", range(40))
def test_strict_scores_equal_seqeval_on_flat_iob2(seed: int) -> None:
    rng = random.Random(seed)
    gold_docs, pred_docs, y_true, y_pred = [], [], [], []
    for d in range(rng.randint(1, 6)):
        n = rng.randint(1, 25)
        gold, pred = _flat_spans(rng, n), _flat_spans(rng, n)
        if rng.random() < 0.5:  # predictions close to gold, so that many mentions are correct
            pred = _flat_spans(rng, 0) + [g for g in gold if rng.random() < 0.7]
        gold_docs.append(_document(f"d{d}", n, gold))
        pred_docs.append(_document(f"d{d}", n, pred))
        y_true.append(_iob2(n, gold))
        y_pred.append(_iob2(n, pred))
    strict = evaluate(gold_docs, pred_docs).overall["strict"]
    kwargs = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    assert strict.precision == pytest.approx(precision_score(y_true, y_pred, **kwargs), abs=1e-12)
    assert strict.recall == pytest.approx(recall_score(y_true, y_pred, **kwargs), abs=1e-12)
    assert strict.f1 == pytest.approx(f1_score(y_true, y_pred, **kwargs), abs=1e-12)


def _unambiguous(rng: random.Random, n_tokens: int) -> tuple[list[TokenSpan], list[TokenSpan]]:
    """Random gold and predicted spans (nested and crossing allowed) where every span overlaps at most one
    span on the other side: the cases where nervaluate's greedy matching is already optimal."""

    def random_spans(k: int) -> list[TokenSpan]:
        out = []
        for _ in range(k):
            s = rng.randrange(n_tokens)
            out.append((s, min(n_tokens, s + rng.randint(1, 4)), rng.choice(LABELS)))
        return out

    gold, pred = random_spans(rng.randint(0, 6)), random_spans(rng.randint(0, 3))
    # copies of gold spans, some relabelled, some shifted, so that every kind of match occurs
    pred += [(s, e, label if rng.random() < 0.6 else rng.choice(LABELS)) for s, e, label in gold if rng.random() < 0.5]
    pred += [(s, min(n_tokens, e + 1), label) for s, e, label in gold if rng.random() < 0.2]

    def overlaps(a: TokenSpan, b: TokenSpan) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    while True:
        crowded = [x for x in gold if sum(overlaps(x, p) for p in pred) > 1]
        crowded += [x for x in pred if sum(overlaps(x, g) for g in gold) > 1]
        if not crowded:
            return gold, pred
        victim = rng.choice(crowded)
        (gold if victim in gold else pred).remove(victim)


def _nervaluate_docs(spans: list[list[TokenSpan]]) -> list[list[dict[str, object]]]:
    return [[{"label": label, "start": s, "end": e - 1} for s, e, label in doc] for doc in spans]


@pytest.mark.parametrize("seed", range(60))
def test_all_schemes_equal_nervaluate_when_every_span_overlaps_at_most_one(seed: int) -> None:
    rng = random.Random(seed)
    gold_spans, pred_spans, gold_docs, pred_docs = [], [], [], []
    for d in range(rng.randint(1, 5)):
        n = rng.randint(3, 20)
        gold, pred = _unambiguous(rng, n)
        gold_spans.append(gold)
        pred_spans.append(pred)
        gold_docs.append(_document(f"d{d}", n, gold))
        pred_docs.append(_document(f"d{d}", n, pred))
    ours = evaluate(gold_docs, pred_docs)
    theirs = Evaluator(
        _nervaluate_docs(gold_spans), _nervaluate_docs(pred_spans), tags=list(LABELS), loader="dict"
    ).evaluate()
    for scheme in SCHEMES:
        name = "ent_type" if scheme == "type" else scheme
        _assert_same(ours.overall[scheme], theirs["overall"][name])
        for label, by_scheme in theirs["entities"].items():
            _assert_same(ours.per_label[label][scheme], by_scheme[name])
    assert set(ours.per_label) == set(theirs["entities"])


def _assert_same(ours: object, theirs: object) -> None:
    for field in ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual"):
        assert getattr(ours, field) == getattr(theirs, field), field
    for field in ("precision", "recall", "f1"):
        assert abs(getattr(ours, field) - getattr(theirs, field)) <= 1e-9, field
