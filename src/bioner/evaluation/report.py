"""The evaluation report: scores overall, per label and per length bucket, with timing; JSON and Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bioner.evaluation.ids import IdScores
from bioner.evaluation.matching import SCHEMES
from bioner.evaluation.scores import Scores
from bioner.timing import Timing

_TABLE_SCHEMES = ("strict", "partial")
"""Schemes the per-label and per-length Markdown tables show: the papers' strict and relaxed scores."""


UNPREDICTED = "Gold documents without predictions (their mentions count as missed)"


@dataclass(frozen=True)
class EvalReport:
    """Scores of one system on one gold set; ``per_label`` and ``by_length`` map a slice to scheme -> Scores.

    ``ignored`` counts the gold and predicted mentions left out because their label was
    not among the labels asked for; ``unpredicted`` the gold documents the predictions
    lack (scored, their mentions all missed); ``ids`` holds the end-to-end mention +
    concept ID scores when they were asked for.
    """

    documents: int
    overall: dict[str, Scores]
    per_label: dict[str, dict[str, Scores]]
    by_length: dict[str, dict[str, Scores]]
    timing: Timing | None = None
    ignored: dict[str, int] = field(default_factory=lambda: {"gold": 0, "predicted": 0})
    unpredicted: int = 0
    ids: IdScores | None = None

    @property
    def macro(self) -> dict[str, dict[str, float]]:
        """Per scheme, the unweighted mean over labels of per-label precision, recall and F1 (0.0 with no label)."""
        out: dict[str, dict[str, float]] = {}
        n = len(self.per_label)
        for scheme in SCHEMES:
            rows = [by_scheme[scheme] for by_scheme in self.per_label.values()]
            out[scheme] = {
                "precision": sum(s.precision for s in rows) / n if n else 0.0,
                "recall": sum(s.recall for s in rows) / n if n else 0.0,
                "f1": sum(s.f1 for s in rows) / n if n else 0.0,
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape other tools read (``timing`` only when the run recorded it)."""
        out: dict[str, Any] = {
            "documents": self.documents,
            "overall": _schemes(self.overall),
            "per_label": {label: _schemes(s) for label, s in self.per_label.items()},
            "by_length": {bucket: _schemes(s) for bucket, s in self.by_length.items()},
            "macro": self.macro,
            "ignored": dict(self.ignored),
            "unpredicted_documents": self.unpredicted,
        }
        if self.timing is not None:
            out["timing"] = self.timing.to_dict()
        if self.ids is not None:
            out["ids"] = self.ids.to_dict()
        return out

    def to_markdown(self) -> str:
        """Tables for a README or a pull request: percentages with two decimals."""
        lines = [f"Documents: {self.documents}", ""]
        if self.unpredicted:
            lines += [f"{UNPREDICTED}: {self.unpredicted}", ""]
        lines += [
            "| scheme | P | R | F1 | correct | incorrect | partial | missed | spurious |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for scheme in SCHEMES:
            s = self.overall[scheme]
            lines.append(
                f"| {scheme} | {_pct(s.precision)} | {_pct(s.recall)} | {_pct(s.f1)} | {s.correct} | "
                f"{s.incorrect} | {s.partial} | {s.missed} | {s.spurious} |"
            )
        lines += ["", *_slice_table("label", self.per_label)]
        if self.per_label:
            macro = self.macro
            cells = " | ".join(_pct(macro[sc][m]) for sc in _TABLE_SCHEMES for m in ("precision", "recall", "f1"))
            lines.append(f"| *macro* | | | {cells} |")
        lines += ["", *_slice_table("length", self.by_length)]
        if self.ids is not None:
            lines += ["", *self.ids.to_markdown()]
        if any(self.ignored.values()):
            lines += [
                "",
                f"Left out (label not asked for): {self.ignored['gold']} gold, "
                f"{self.ignored['predicted']} predicted mentions.",
            ]
        if self.timing is not None:
            t = self.timing
            lines += [
                "",
                "| documents | mean ms | p50 ms | p95 ms | documents/s | tokens/s |",
                "|--:|--:|--:|--:|--:|--:|",
                f"| {t.documents} | {t.mean_ms:.2f} | {t.p50_ms:.2f} | {t.p95_ms:.2f} | {t.docs_per_s:.2f} | "
                f"{t.tokens_per_s:.1f} |",
            ]
        return "\n".join(lines) + "\n"


def _schemes(by_scheme: dict[str, Scores]) -> dict[str, dict[str, float | int]]:
    return {scheme: by_scheme[scheme].to_dict() for scheme in SCHEMES}


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def _slice_table(name: str, slices: dict[str, dict[str, Scores]]) -> list[str]:
    head = " | ".join(f"{sc} {m}" for sc in _TABLE_SCHEMES for m in ("P", "R", "F1"))
    lines = [f"| {name} | gold | predicted | {head} |", "|---|--:|--:|" + "--:|" * 3 * len(_TABLE_SCHEMES)]
    for key, by_scheme in slices.items():
        cells = " | ".join(
            _pct(v) for sc in _TABLE_SCHEMES for v in (by_scheme[sc].precision, by_scheme[sc].recall, by_scheme[sc].f1)
        )
        strict = by_scheme["strict"]
        lines.append(f"| {key} | {strict.possible} | {strict.actual} | {cells} |")
    return lines
