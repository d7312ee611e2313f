"""Scoring concept IDs: when two ID fields name the same concept, and end-to-end mention + ID scores.

An ID field may list several identifiers (``|``, ``+``, ``,`` or ``;``): the alternatives of
one concept (``C535668|OMIM:201400``) or the parts of a composite mention. Identifiers
are compared without the namespace prefixes corpora disagree on (``MESH:D012345`` is
``D012345``, ``OMIM:123456`` is ``123456``); ``-1`` and empty fields mean "no concept"
(NIL). Two fields **match** when both are NIL or when they share an identifier — the
rule of BioSyn's and SapBERT's published accuracies, so the numbers compare.

End to end, a prediction is right when its span and type match a gold mention exactly
(the ``strict`` matching) and its ID field matches the gold one: the scores count those
as *correct*, strict pairs with another concept as *incorrect*, and unmatched mentions
as missed or spurious, so precision, recall and F1 read as for mentions alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bioner.evaluation.scores import MatchedDocument, Scores, matched_documents
from bioner.types import Document

_SEPARATORS = re.compile(r"[|+,;]")
_PREFIX = re.compile(r"^(?:mesh|omim):", re.IGNORECASE)
NIL = frozenset({"", "-1", "nil", "cui-less"})


def id_set(value: str | None) -> frozenset[str]:
    """The identifiers of an ID field, prefixes stripped; empty for NIL."""
    parts = (_PREFIX.sub("", p.strip()) for p in _SEPARATORS.split(value or ""))
    return frozenset(p for p in parts if p.casefold() not in NIL)


def ids_match(gold: str | None, predicted: str | None) -> bool:
    """Both NIL, or at least one identifier in common."""
    g, p = id_set(gold), id_set(predicted)
    return (not g and not p) or bool(g & p)


@dataclass(frozen=True)
class IdScores:
    """End-to-end scores (span, type and ID right), overall and per label, and the ID accuracy of right spans."""

    overall: Scores
    per_label: dict[str, Scores]
    strict_pairs: int
    """Predictions with the right span and type (whatever their ID)."""

    @property
    def linking_accuracy(self) -> float:
        """Of the predictions with the right span and type, the share whose ID is right too."""
        return self.overall.correct / self.strict_pairs if self.strict_pairs else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "per_label": {label: s.to_dict() for label, s in self.per_label.items()},
            "strict_pairs": self.strict_pairs,
            "linking_accuracy": self.linking_accuracy,
        }

    def to_markdown(self) -> list[str]:
        lines = [
            "Mention + concept ID (span, type and ID all right):",
            "",
            "| label | gold | predicted | P | R | F1 | right ID | wrong ID |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for label, s in [*self.per_label.items(), ("*all*", self.overall)]:
            lines.append(
                f"| {label} | {s.possible} | {s.actual} | {100 * s.precision:.2f} | {100 * s.recall:.2f} | "
                f"{100 * s.f1:.2f} | {s.correct} | {s.incorrect} |"
            )
        lines += ["", f"Linking accuracy on mentions with the right span and type: {100 * self.linking_accuracy:.2f}"]
        return lines


def document_id_counts(doc: MatchedDocument) -> dict[str, list[int]]:
    """Per label: ``[right ID, wrong ID, missed, spurious]`` of one matched document (labels of the gold side)."""
    counts: dict[str, list[int]] = {}

    def row(label: str) -> list[int]:
        return counts.setdefault(label, [0, 0, 0, 0])

    result = doc.matchings["strict"]
    for g, p, outcome in result.pairs:
        gold, pred = doc.gold[g], doc.pred[p]
        if outcome == "correct":
            row(gold.label)[0 if ids_match(gold.id, pred.id) else 1] += 1
        else:
            row(gold.label)[2] += 1
            row(pred.label)[3] += 1
    for g in result.missed:
        row(doc.gold[g].label)[2] += 1
    for p in result.spurious:
        row(doc.pred[p].label)[3] += 1
    return counts


def add_id_counts(totals: dict[str, list[int]], doc: MatchedDocument) -> None:
    """Add one matched document's per-label counts to ``totals``."""
    for label, counts in document_id_counts(doc).items():
        row = totals.setdefault(label, [0, 0, 0, 0])
        for i, n in enumerate(counts):
            row[i] += n


def id_scores_from(totals: dict[str, list[int]], labels: Sequence[str]) -> IdScores:
    """The scores of summed counts, per label in the order of ``labels``."""
    per_label = {label: _scores(totals.get(label, [0, 0, 0, 0])) for label in labels}
    summed = [sum(r[i] for r in totals.values()) for i in range(4)]
    return IdScores(_scores(summed), per_label, summed[0] + summed[1])


def id_scores(gold: Iterable[Document], pred: Iterable[Document], labels: Sequence[str] | None = None) -> IdScores:
    """End-to-end mention + ID scores of ``pred`` against ``gold`` (documents paired as :func:`evaluate` pairs them)."""
    totals: dict[str, list[int]] = {}
    for doc in matched_documents(gold, pred, labels, ("strict",)):
        add_id_counts(totals, doc)
    return id_scores_from(totals, list(dict.fromkeys(labels)) if labels is not None else sorted(totals))


def _scores(row: list[int]) -> Scores:
    right, wrong, missed, spurious = row
    return Scores.from_counts(right, wrong, 0, missed, spurious)
