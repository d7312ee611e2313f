"""Learning curves: per-epoch training loss and dev precision, recall and F1, as JSON and PNG.

The plot follows the GenoVarDis paper's Figures 3 and 4 (metrics across epochs), with
the training loss beside it, so a run shows at a glance whether it still learns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bioner.figures import new_figure, save_figure
from bioner.formats.common import open_write

HISTORY_FILE = "history.json"
CURVE_FILE = "learning_curve.png"


def write_history(summary: Mapping[str, Any], output: str | Path) -> Path:
    """The run summary with its per-epoch records as JSON (atomically)."""
    path = Path(output) / HISTORY_FILE
    with open_write(path) as out:
        out.write(json.dumps(summary, indent=2) + "\n")
    return path


def plot_learning_curve(epochs: Sequence[Mapping[str, Any]], output: str | Path, title: str = "") -> Path:
    """Two panels: training loss per epoch, and dev strict P/R/F1 per epoch (when there is a dev set)."""
    path = Path(output) / CURVE_FILE
    x = [e["epoch"] for e in epochs]
    fig = new_figure(10, 4)
    loss_ax, dev_ax = fig.subplots(1, 2)
    loss_ax.plot(x, [e["train_loss"] for e in epochs], marker="o", color="tab:gray")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("training loss")
    loss_ax.set_title("training loss")
    scored = [e for e in epochs if e.get("dev_f1") is not None]
    for key, name in (("dev_precision", "precision"), ("dev_recall", "recall"), ("dev_f1", "F1")):
        dev_ax.plot([e["epoch"] for e in scored], [e[key] for e in scored], marker="o", label=name)
    dev_ax.set_xlabel("epoch")
    dev_ax.set_ylabel("dev score (strict)")
    dev_ax.set_ylim(0.0, 1.0)
    dev_ax.set_title("dev precision / recall / F1" if scored else "no dev set")
    if scored:
        dev_ax.legend(frameon=False)
    for ax in (loss_ax, dev_ax):
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
