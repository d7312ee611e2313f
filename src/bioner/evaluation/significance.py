"""Is system A really better than system B? Paired bootstrap and approximate randomization over documents.

Both tests resample whole documents (the unit the corpora are sampled in) and recompute
micro F1 from per-document count vectors ``(correct + ½·partial, possible, actual)``,
so a resample costs a matrix product, not a re-matching. Both are deterministic for a
given seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

from bioner.errors import BionerError
from bioner.evaluation.ids import document_id_counts
from bioner.evaluation.matching import SCHEMES, Scheme
from bioner.evaluation.scores import MatchedDocument, credit_counts, matched_documents
from bioner.types import Document

_CHUNK = 2_000_000
"""Resampled document slots held in memory at once."""


@dataclass(frozen=True)
class Comparison:
    """F1 of two systems on the same gold, their difference and how sure we are of it."""

    scheme: str
    documents: int
    f1_a: float
    f1_b: float
    delta: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    samples: int
    seed: int

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def document_counts(
    gold: Iterable[Document],
    pred: Iterable[Document],
    scheme: Scheme = "strict",
    labels: Sequence[str] | None = None,
    ids: bool = False,
) -> NDArray[np.float64]:
    """One row ``(credit, possible, actual)`` per gold document, in gold order.

    With ``ids``, credit is for the right span, type and concept ID (the ``strict`` matching).
    """
    if scheme not in SCHEMES:
        raise BionerError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if ids:
        rows = [_id_counts(d) for d in matched_documents(gold, pred, labels, ("strict",))]
    else:
        rows = [credit_counts(d.matchings[scheme]) for d in matched_documents(gold, pred, labels, (scheme,))]
    return np.array(rows, dtype=np.float64).reshape(len(rows), 3)


def _id_counts(doc: MatchedDocument) -> tuple[float, int, int]:
    """``(right ID, possible, actual)`` of one document, all labels together."""
    counts = document_id_counts(doc).values()
    right = sum(c[0] for c in counts)
    possible = sum(c[0] + c[1] + c[2] for c in counts)
    actual = sum(c[0] + c[1] + c[3] for c in counts)
    return float(right), possible, actual


def f1(counts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Micro F1 from summed ``(credit, possible, actual)`` in the last axis: 2·credit / (possible + actual).

    This equals 2PR / (P + R) and is 0.0 where there is nothing to score.
    """
    credit, total = counts[..., 0], counts[..., 1] + counts[..., 2]
    return np.divide(2 * credit, total, out=np.zeros_like(credit), where=total > 0)


def compare(
    gold: Iterable[Document],
    pred_a: Iterable[Document],
    pred_b: Iterable[Document],
    scheme: Scheme = "strict",
    n: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    labels: Sequence[str] | None = None,
    ids: bool = False,
) -> Comparison:
    """Both systems' F1, the paired bootstrap interval of F1(A) − F1(B) and the approximate-randomization p-value.

    With ``ids``, F1 is end to end: span, type and concept ID right.
    """
    gold_docs = list(gold)
    a = document_counts(gold_docs, pred_a, scheme, labels, ids)
    b = document_counts(gold_docs, pred_b, scheme, labels, ids)
    delta, low, high = _bootstrap(a, b, n, seed, confidence)
    return Comparison(
        scheme="strict+ids" if ids else scheme,
        documents=len(gold_docs),
        f1_a=float(f1(a.sum(axis=0))),
        f1_b=float(f1(b.sum(axis=0))),
        delta=delta,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_value=_randomization(a, b, n, seed),
        samples=n,
        seed=seed,
    )


def paired_bootstrap(
    gold: Iterable[Document],
    pred_a: Iterable[Document],
    pred_b: Iterable[Document],
    scheme: Scheme = "strict",
    n: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """``(F1(A) − F1(B), low, high)``: the percentile interval of the difference over ``n`` document resamples."""
    gold_docs = list(gold)
    a, b = document_counts(gold_docs, pred_a, scheme), document_counts(gold_docs, pred_b, scheme)
    return _bootstrap(a, b, n, seed, confidence)


def approximate_randomization(
    gold: Iterable[Document],
    pred_a: Iterable[Document],
    pred_b: Iterable[Document],
    scheme: Scheme = "strict",
    n: int = 1000,
    seed: int = 0,
) -> float:
    """Two-sided p-value that A and B differ by chance: each trial swaps the systems' outputs on random documents.

    ``p = (1 + trials with |ΔF1| ≥ observed) / (1 + n)``, so it is never 0.
    """
    gold_docs = list(gold)
    a, b = document_counts(gold_docs, pred_a, scheme), document_counts(gold_docs, pred_b, scheme)
    return _randomization(a, b, n, seed)


def _check(a: NDArray[np.float64], n: int) -> None:
    if not len(a):
        raise BionerError("no gold documents to compare on")
    if n < 1:
        raise BionerError(f"the number of samples must be positive, got {n}")


def _bootstrap(
    a: NDArray[np.float64], b: NDArray[np.float64], n: int, seed: int, confidence: float
) -> tuple[float, float, float]:
    _check(a, n)
    if not 0 < confidence < 1:
        raise BionerError(f"confidence must lie between 0 and 1, got {confidence}")
    rng = np.random.default_rng(seed)
    docs = len(a)
    deltas = np.empty(n)
    step = max(1, _CHUNK // docs)
    for first in range(0, n, step):
        m = min(step, n - first)
        picks = rng.integers(0, docs, size=(m, docs))
        deltas[first : first + m] = f1(a[picks].sum(axis=1)) - f1(b[picks].sum(axis=1))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(deltas, [tail, 100 - tail])
    return float(f1(a.sum(axis=0)) - f1(b.sum(axis=0))), float(low), float(high)


def _randomization(a: NDArray[np.float64], b: NDArray[np.float64], n: int, seed: int) -> float:
    _check(a, n)
    rng = np.random.default_rng(seed)
    docs = len(a)
    total_a, total_b, diff = a.sum(axis=0), b.sum(axis=0), b - a
    observed = abs(float(f1(total_a) - f1(total_b)))
    at_least = 0
    step = max(1, _CHUNK // docs)
    for first in range(0, n, step):
        m = min(step, n - first)
        swap = (rng.random((m, docs)) < 0.5).astype(np.float64)
        moved = swap @ diff
        deltas = np.abs(f1(total_a + moved) - f1(total_b - moved))
        at_least += int(np.count_nonzero(deltas >= observed - 1e-12))
    return (at_least + 1) / (n + 1)
