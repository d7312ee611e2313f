"""Corpus plots: unique entities per type and the correlation of entity types.

They follow the data exploration of the GenoVarDis paper (Figure 1: unique entities by
type per split; Figure 2: correlation matrix of entity types). Figures are drawn with
matplotlib's object API and saved through its Agg canvas, so plotting needs no display
and never changes the pyplot backend of the calling program.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bioner.figures import save_figure
from bioner.stats import label_correlation
from bioner.types import Corpus


def plot_unique_entities(stats: dict[str, Any], path: str | Path) -> Path:
    """Grouped bars: distinct surface forms (case-sensitive) per entity type, one bar per split."""
    labels: list[str] = stats["labels"]
    splits: list[str] = list(stats["splits"])
    width = (0.8 if len(labels) > 2 else 0.5) / max(1, len(splits))  # a lone label gets no wall-wide bar
    x = np.arange(len(labels))
    group_width = 0.8 * (1 + 0.25 * (len(splits) - 1))  # inches per label: wider groups for more splits
    fig = Figure(figsize=(min(18.0, max(5.0, group_width * len(labels) + 2.0)), 4.8))
    ax = fig.subplots()
    for i, split in enumerate(splits):
        values = [stats["splits"][split]["unique_mentions"][label] for label in labels]
        bars = ax.bar(x + (i - (len(splits) - 1) / 2) * width, values, width, label=split)
        ax.bar_label(bars, fontsize=8 if len(labels) * len(splits) <= 12 else 6, padding=2)
    ax.set_xticks(x, labels, rotation=30 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("unique mentions (case-sensitive)")
    ax.set_title(f"{stats['corpus']}: unique entities by type ({', '.join(splits)})")
    ax.margins(y=0.12)
    ax.spines[["top", "right"]].set_visible(False)
    if splits:
        ax.legend(title="split", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save_figure(fig, path, tight=True)


def plot_correlation(matrix: npt.NDArray[np.float64], labels: Sequence[str], title: str, path: str | Path) -> Path:
    """Heatmap of a label correlation matrix with each value written in its cell ("n/a" where undefined)."""
    size = max(4.5, 0.9 * len(labels) + 3.0)
    fig = Figure(figsize=(size + 1.0, size))
    ax = fig.subplots()
    cmap = matplotlib.colormaps["coolwarm"].with_extremes(bad="#e8e8e8")
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, vmin=-1.0, vmax=1.0)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for (i, j), value in np.ndenumerate(matrix):
        text = "n/a" if np.isnan(value) else f"{value:.2f}"
        dark = not np.isnan(value) and abs(value) > 0.6
        ax.text(j, i, text, ha="center", va="center", fontsize=9, color="white" if dark else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="Pearson r")
    ax.set_title(title)
    if np.isnan(matrix).any():
        ax.set_xlabel("n/a: the type's count is the same in every document", fontsize=8, labelpad=8)
    return save_figure(fig, path, tight=True)


def write_plots(corpus: Corpus, stats: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Both plots for the splits in ``stats``, as ``<corpus>-unique-entities.png`` and ``<corpus>-correlation.png``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    splits = list(stats["splits"])
    labels = stats["labels"]
    docs = [doc for split in splits for doc in corpus.splits[split]]
    matrix = label_correlation(docs, labels)
    title = f"{stats['corpus']}: correlation of entity types per document\n({', '.join(splits)}; {len(docs)} documents)"
    return [
        plot_unique_entities(stats, out / f"{stats['corpus']}-unique-entities.png"),
        plot_correlation(matrix, labels, title, out / f"{stats['corpus']}-correlation.png"),
    ]
