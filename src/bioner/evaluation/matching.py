"""One-to-one optimal matching of gold and predicted mentions, per SemEval-2013 scheme.

Greedy matching (nervaluate, conlleval) makes scores depend on the order in which
entities are listed (nervaluate #40). Here each scheme gets a maximum-weight bipartite
matching over the overlap graph, solved exactly with the Hungarian algorithm on every
cluster of mutually overlapping spans, after putting the entities in a canonical
order. The weight of a pair is a tuple compared lexicographically:

- ``strict``:  (same span and label, 1, same label, same span, overlap length)
- ``exact``:   (same span, 1, same label, overlap length)
- ``partial``: (1 + same span, same span, same label, overlap length)
- ``type``:    (same label, 1, same span, overlap length)

The first item is the scheme's credit (``partial`` counts an exact match twice as much as
another overlap, i.e. 1 against 0.5); the constant 1 then prefers matching more pairs
(an overlap is ``incorrect`` rather than a missed plus a spurious mention, as in
SemEval-2013); the rest are tie-breaks that keep same-label and larger overlaps together,
so per-label tables read naturally. Since every gold mention is either matched or missed
and every prediction matched or spurious, the denominators are fixed and maximising the
credit maximises precision, recall and F1 at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from bioner.types import Entity

Scheme = Literal["strict", "exact", "partial", "type"]
SCHEMES: tuple[Scheme, ...] = ("strict", "exact", "partial", "type")
Outcome = Literal["correct", "incorrect", "partial"]

_EXACT_FLOAT = 2**52
"""Weights are combined into one float64; beyond this, integers stop being exact."""


@dataclass(frozen=True)
class Matching:
    """Matched pairs ``(gold index, predicted index, outcome)`` and the unmatched indices.

    Indices refer to the sequences given to :func:`match`.
    """

    pairs: tuple[tuple[int, int, Outcome], ...]
    missed: tuple[int, ...]
    spurious: tuple[int, ...]


def match(gold: Sequence[Entity], pred: Sequence[Entity], scheme: Scheme) -> Matching:
    """The optimal one-to-one matching of ``pred`` to ``gold`` under ``scheme``.

    The result depends only on the multisets of ``(start, end, label)``, not on the
    order of either sequence: identical mentions are interchangeable.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    pairs: list[tuple[int, int, Outcome]] = []
    missed: list[int] = []
    spurious: list[int] = []
    for g_idx, p_idx in _clusters(gold, pred):
        if not p_idx:
            missed.extend(g_idx)
        elif not g_idx:
            spurious.extend(p_idx)
        else:
            matched = _solve([gold[i] for i in g_idx], [pred[j] for j in p_idx], scheme)
            taken_g = {r for r, _ in matched}
            taken_p = {c for _, c in matched}
            for r, c in matched:
                pairs.append((g_idx[r], p_idx[c], _outcome(gold[g_idx[r]], pred[p_idx[c]], scheme)))
            missed.extend(i for r, i in enumerate(g_idx) if r not in taken_g)
            spurious.extend(j for c, j in enumerate(p_idx) if c not in taken_p)
    return Matching(tuple(pairs), tuple(sorted(missed)), tuple(sorted(spurious)))


def _key(e: Entity) -> tuple[int, int, str]:
    return (e.start, e.end, e.label)


def _clusters(gold: Sequence[Entity], pred: Sequence[Entity]) -> list[tuple[list[int], list[int]]]:
    """Groups of indices whose spans chain together by overlap (the overlap graph's components, or unions of them)."""
    items = sorted(
        [(_key(e), 0, i) for i, e in enumerate(gold)] + [(_key(e), 1, j) for j, e in enumerate(pred)],
    )
    clusters: list[tuple[list[int], list[int]]] = []
    reach = -1
    for (start, end, _), side, index in items:
        if start >= reach:
            clusters.append(([], []))
        reach = max(reach, end)
        clusters[-1][side].append(index)
    return clusters


def _outcome(g: Entity, p: Entity, scheme: Scheme) -> Outcome:
    same_span = g.start == p.start and g.end == p.end
    same_label = g.label == p.label
    if scheme == "strict":
        return "correct" if same_span and same_label else "incorrect"
    if scheme == "exact":
        return "correct" if same_span else "incorrect"
    if scheme == "partial":
        return "correct" if same_span else "partial"
    return "correct" if same_label else "incorrect"


def _levels(g: Entity, p: Entity, scheme: Scheme) -> tuple[int, ...]:
    """The pair's weight as a tuple (see the module docstring); all zeros when the spans do not overlap."""
    overlap = min(g.end, p.end) - max(g.start, p.start)
    if overlap <= 0:
        return (0, 0, 0, 0, 0) if scheme == "strict" else (0, 0, 0, 0)
    same_span = int(g.start == p.start and g.end == p.end)
    same_label = int(g.label == p.label)
    if scheme == "strict":
        return (same_span * same_label, 1, same_label, same_span, overlap)
    if scheme == "exact":
        return (same_span, 1, same_label, overlap)
    if scheme == "partial":
        return (1 + same_span, same_span, same_label, overlap)
    return (same_label, 1, same_span, overlap)


def _solve(gold: list[Entity], pred: list[Entity], scheme: Scheme) -> list[tuple[int, int]]:
    """Row/column pairs of the maximum-weight matching among overlapping pairs."""
    levels = [[_levels(g, p, scheme) for p in pred] for g in gold]
    if len(gold) == 1 or len(pred) == 1:  # one pair at most: the best one (the first in canonical order on ties)
        best = max(((levels[r][c], r, c) for r in range(len(gold)) for c in range(len(pred))), key=lambda x: x[0])
        return [(best[1], best[2])] if best[0][-1] > 0 else []
    table = np.array(levels, dtype=np.int64)
    weight = _lexicographic([table[:, :, i] for i in range(table.shape[2])], min(len(gold), len(pred)))
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if levels[r][c][-1] > 0]


def _lexicographic(levels: list[NDArray[np.int64]], pairs: int) -> NDArray[np.float64]:
    """One weight per pair whose sum over any matching orders matchings lexicographically by level.

    Each level is scaled past the largest total the levels after it can reach over
    ``pairs`` matched pairs. Trailing tie-break levels that would push the weights past
    exact float arithmetic are left out (only for clusters of thousands of mentions); the
    credit and pair-count levels always fit.
    """
    weight = np.zeros(levels[0].shape, dtype=np.float64)
    scale = 1
    kept: list[tuple[NDArray[np.int64], int]] = []
    for level in levels:
        radix = pairs * int(level.max()) + 1
        if scale * radix > _EXACT_FLOAT and len(kept) >= 2:
            break
        kept.append((level, radix))
        scale *= radix
    multiplier = 1
    for level, radix in reversed(kept):
        weight += level * float(multiplier)
        multiplier *= radix
    return weight
