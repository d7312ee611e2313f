"""PharmaCoNER (Spanish): the pre-tokenized IOB2 files of CongSun-dlut/PharmaCoNER.

The files have no document boundaries or offsets, so each sentence is a document whose
text is its tokens joined by single spaces (the only text this source allows).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bioner.corpora.common import Loaded
from bioner.errors import Report
from bioner.formats import read_documents

_FILES = {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"}


def load(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    base = folder / "CongSun-dlut-PharmaCoNER" / "data"
    out = {
        split: list(read_documents(base / _FILES[split], "conll", report, scheme="IOB2", doc_per="sentence"))
        for split in splits
    }
    return Loaded(
        out,
        [
            "processed IOB2 files of CongSun-dlut/PharmaCoNER (no offsets): one document per sentence, "
            "text = tokens joined by spaces",
            "how these files map onto the official PharmaCoNER splits is not documented upstream",
        ],
    )
