"""SemEval-2013 counts and precision/recall/F1, aggregated overall, per label and per length bucket.

A slice (a label, a length bucket) is scored with the same document-level matching as
the whole: a gold mention belongs to the slice of its own label (or length), a
prediction to the slice of its own. A matched pair whose two sides fall in different
slices counts as *missed* in the gold mention's slice and *spurious* in the
prediction's, as nervaluate's per-type tables count a pair of different types; so
recall in a slice is over the slice's gold mentions and precision over its
predictions, as in the LLMs-vs-encoders paper. For ``strict`` and ``exact`` nothing
changes by this (correct pairs share their span, hence their length, and ``strict``
pairs their label); for the overlap schemes a pair across slices earns no credit in
either slice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from bioner.errors import BionerError
from bioner.evaluation.matching import SCHEMES, Matching, Scheme, match
from bioner.types import Document, Entity


@dataclass(frozen=True)
class Scores:
    """SemEval-2013 counts with precision, recall and F1.

    ``possible = correct + incorrect + partial + missed`` (gold mentions),
    ``actual = correct + incorrect + partial + spurious`` (predictions);
    precision = (correct + ½·partial) / actual and recall = (correct + ½·partial) / possible
    (``partial`` is 0 outside the ``partial`` scheme, so this is nervaluate's formula for
    every scheme). A ratio with a zero denominator is 0.0, and F1 is 0.0 when P + R = 0.
    """

    correct: int = 0
    incorrect: int = 0
    partial: int = 0
    missed: int = 0
    spurious: int = 0
    possible: int = 0
    actual: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0

    @classmethod
    def from_counts(cls, correct: int, incorrect: int, partial: int, missed: int, spurious: int) -> Scores:
        possible = correct + incorrect + partial + missed
        actual = correct + incorrect + partial + spurious
        credit = correct + 0.5 * partial
        precision = credit / actual if actual else 0.0
        recall = credit / possible if possible else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(correct, incorrect, partial, missed, spurious, possible, actual, precision, recall, f1)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "correct": self.correct,
            "incorrect": self.incorrect,
            "partial": self.partial,
            "missed": self.missed,
            "spurious": self.spurious,
            "possible": self.possible,
            "actual": self.actual,
        }


class Tally:
    """Counts per ``(scheme, slice)``, turned into :class:`Scores` at the end."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], list[int]] = {}

    def add(self, scheme: str, key: str, what: str) -> None:
        row = self.counts.setdefault((scheme, key), [0, 0, 0, 0, 0])
        row[_COLUMNS[what]] += 1

    def add_matching(self, scheme: str, result: Matching, gold_keys: Sequence[str], pred_keys: Sequence[str]) -> None:
        """Count one document's matching into slices named by each mention's key (see the module docstring)."""
        for g, p, outcome in result.pairs:
            if gold_keys[g] == pred_keys[p]:
                self.add(scheme, gold_keys[g], outcome)
            else:
                self.add(scheme, gold_keys[g], "missed")
                self.add(scheme, pred_keys[p], "spurious")
        for g in result.missed:
            self.add(scheme, gold_keys[g], "missed")
        for p in result.spurious:
            self.add(scheme, pred_keys[p], "spurious")

    def scores(self, scheme: str, key: str) -> Scores:
        return Scores.from_counts(*self.counts.get((scheme, key), [0, 0, 0, 0, 0]))

    def table(self, keys: Iterable[str]) -> dict[str, dict[str, Scores]]:
        """Slice -> scheme -> Scores, for the given slices in the given order."""
        return {key: {scheme: self.scores(scheme, key) for scheme in SCHEMES} for key in keys}


_COLUMNS = {"correct": 0, "incorrect": 1, "partial": 2, "missed": 3, "spurious": 4}


def pair_documents(gold: Iterable[Document], pred: Iterable[Document]) -> list[tuple[Document, Document | None]]:
    """Each gold document with its prediction (None when the predictions lack it).

    A prediction for a document the gold does not have, a repeated id, or a prediction
    whose text differs from the gold text (offsets would mean something else) is an error.
    """
    gold_docs = _by_id(gold, "gold")
    pred_docs = _by_id(pred, "predictions")
    unknown = [i for i in pred_docs if i not in gold_docs]
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise BionerError(f"predictions hold document {unknown[0]!r} that the gold does not have{more}")
    pairs: list[tuple[Document, Document | None]] = []
    for doc_id, g in gold_docs.items():
        p = pred_docs.get(doc_id)
        if p is not None and p.text != g.text:
            raise BionerError(f"document {doc_id!r}: the predicted text differs from the gold text")
        pairs.append((g, p))
    return pairs


def _by_id(docs: Iterable[Document], what: str) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for d in docs:
        if d.id in out:
            raise BionerError(f"{what} hold document id {d.id!r} twice")
        out[d.id] = d
    return out


@dataclass(frozen=True)
class MatchedDocument:
    """A gold document, its scored mentions, the predicted ones and their matching under each scheme."""

    document: Document
    gold: list[Entity]
    pred: list[Entity]
    matchings: dict[Scheme, Matching]
    ignored_gold: int
    ignored_pred: int
    predicted: bool = True
    """False when the predictions lack this document (its mentions all count as missed)."""


def matched_documents(
    gold: Iterable[Document],
    pred: Iterable[Document],
    labels: Sequence[str] | None = None,
    schemes: Sequence[Scheme] = SCHEMES,
) -> Iterator[MatchedDocument]:
    """Match every gold document with its prediction; mentions of labels outside ``labels`` are left out (counted)."""
    for g_doc, p_doc in pair_documents(gold, pred):
        predicted = p_doc.entities if p_doc is not None else ()
        g = [e for e in g_doc.entities if labels is None or e.label in labels]
        p = [e for e in predicted if labels is None or e.label in labels]
        yield MatchedDocument(
            document=g_doc,
            gold=g,
            pred=p,
            matchings={scheme: match(g, p, scheme) for scheme in schemes},
            ignored_gold=len(g_doc.entities) - len(g),
            ignored_pred=len(predicted) - len(p),
            predicted=p_doc is not None,
        )


def credit_counts(result: Matching) -> tuple[float, int, int]:
    """``(correct + ½·partial, possible, actual)`` of one document's matching."""
    correct = sum(1 for *_, o in result.pairs if o == "correct")
    partial = sum(1 for *_, o in result.pairs if o == "partial")
    possible = len(result.pairs) + len(result.missed)
    actual = len(result.pairs) + len(result.spurious)
    return correct + 0.5 * partial, possible, actual
