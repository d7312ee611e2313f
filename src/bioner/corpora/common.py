"""What every corpus loader shares: the loader signature, split lists and deterministic dev carving."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bioner.errors import Report
from bioner.formats.common import read_text
from bioner.types import Document

SPLITS = ("train", "dev", "test")
"""Split names every corpus uses, whatever the upstream files call them (devel, development...)."""


@dataclass
class Loaded:
    """The documents of the requested splits, with notes on how the splits were made."""

    splits: dict[str, list[Document]]
    notes: list[str] = field(default_factory=list)


Loader = Callable[[Path, Sequence[str], Report], Loaded]
"""``loader(corpus_folder, wanted_splits, report)``: reads only the splits asked for."""


def read_id_list(path: Path, report: Report | None = None) -> list[str]:
    """Document ids of a split list, one per line, in file order (blank lines ignored)."""
    return [line.strip() for line in read_text(path, report).split("\n") if line.strip()]


def carve_every(docs: Sequence[Document], every: int) -> tuple[list[Document], list[Document]]:
    """Split ``docs`` into (rest, held out): every ``every``-th document in id order is held out.

    Sorting by id first makes the carve independent of file order, and taking every
    n-th rather than the last tenth keeps the held-out part spread over the whole id range.
    """
    ordered = sorted(docs, key=lambda d: (len(d.id), d.id))
    held = [d for i, d in enumerate(ordered) if i % every == 0]
    kept = [d for i, d in enumerate(ordered) if i % every != 0]
    return kept, held
