"""How every bioner plot is drawn and saved: matplotlib's object API on the Agg canvas, written atomically.

Corpus statistics, evaluation reports, learning curves and benchmarks all plot through here,
so no plot needs a display or pyplot's global state, and a killed run never leaves half a PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bioner.files import atomic_path

DPI = 120


def new_figure(width: float, height: float) -> Any:
    """A matplotlib ``Figure`` of ``width`` × ``height`` inches with an Agg canvas (no display, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Any, path: str | Path, *, tight: bool = False) -> Path:
    """Write ``figure`` as a PNG at ``path`` (atomically); ``tight`` trims the margins to what is drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    target = Path(path)
    with atomic_path(target) as tmp, tmp.open("wb") as handle:
        figure.savefig(handle, format="png", dpi=DPI, bbox_inches="tight" if tight else None)
    return target
