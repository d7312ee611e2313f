"""PNG plots of an evaluation report: F1 by mention length, and P/R/F1 per label.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so plotting needs
no display and leaves no global state behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from bioner.evaluation.matching import SCHEMES
from bioner.evaluation.report import EvalReport
from bioner.evaluation.scores import Scores
from bioner.figures import save_figure


def save_plots(report: EvalReport, directory: str | Path) -> list[Path]:
    """Write ``f1_by_length.png`` and ``per_label.png`` (strict scheme) into ``directory``; return their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    by_length = _bars(
        groups=list(report.by_length),
        series={scheme: [report.by_length[b][scheme].f1 for b in report.by_length] for scheme in SCHEMES},
        title="F1 by mention length (word tokens)",
        xlabel="mention length",
    )
    per_label = _bars(
        groups=list(report.per_label),
        series=_metrics([report.per_label[label]["strict"] for label in report.per_label]),
        title="Strict precision, recall and F1 per label",
        xlabel="label",
    )
    paths = [out / "f1_by_length.png", out / "per_label.png"]
    for figure, path in zip((by_length, per_label), paths, strict=True):
        save_figure(figure, path)
    return paths


def _metrics(scores: Sequence[Scores]) -> dict[str, list[float]]:
    return {
        "precision": [s.precision for s in scores],
        "recall": [s.recall for s in scores],
        "F1": [s.f1 for s in scores],
    }


def _bars(groups: list[str], series: dict[str, list[float]], title: str, xlabel: str) -> Figure:
    """Grouped bar chart, one group per slice, one bar per series, values in percent."""
    figure = Figure(figsize=(max(6.0, 1.2 * len(groups) + 2), 4.5), layout="constrained")
    ax = figure.add_subplot()
    x = np.arange(len(groups))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, [100 * v for v in values], width, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks(x, groups, rotation=30 if len(groups) > 6 else 0)
    ax.set_ylim(0, 120)  # headroom above 100% for the bar labels and the legend
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("%")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=8, ncols=len(series), loc="upper center")
    return figure
