"""Species-800 (S800 1.0): brat standoff of the 800 original abstracts, split by spyysalo/s800's PMID lists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bioner.corpora.common import Loaded, read_id_list
from bioner.errors import InputError, Report
from bioner.formats import read_documents

_STANDOFF = "s800-revision-data/original-standoff"
_LISTS = {"train": "train.txt", "dev": "devel.txt", "test": "test.txt"}


def load(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    docs = {d.id: d for d in read_documents(folder / _STANDOFF, "brat", report)}
    out = {}
    for split in splits:
        path = folder / "s800" / "split" / _LISTS[split]
        ids = read_id_list(path, report)
        missing = [i for i in ids if i not in docs]
        if missing:
            raise InputError(path, None, f"{len(missing)} listed PMIDs have no standoff document (e.g. {missing[0]})")
        out[split] = [docs[i] for i in ids]
    return Loaded(out, ["original S800 1.0 annotations (not the S1000 revision); 560/80/160 split of spyysalo/s800"])
