"""LINNAEUS v1.1: 100 full-text articles with species mentions (``tags.tsv``, unfiltered).

The unfiltered tags are used because they are what the usual IOB versions hold
(species "clues" such as *patient* included); the split follows spyysalo/linnaeus-corpus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bioner.corpora.common import Loaded, read_id_list
from bioner.errors import InputError, Report
from bioner.formats.common import read_text
from bioner.types import Document, Entity, make_attrs

_DATA = "linnaeus-corpus-data"
_LISTS = {"train": "train.txt", "dev": "devel.txt", "test": "test.txt"}


def load(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    tags_path = folder / _DATA / "tags.tsv"
    tags = _read_tags(tags_path, report)
    out = {}
    for split in splits:
        docs = []
        for doc_id in read_id_list(folder / "linnaeus-corpus" / "split" / _LISTS[split], report):
            text = read_text(folder / _DATA / "txt" / f"{doc_id}.txt", report)
            for number, entity in tags.get(doc_id, []):
                if text[entity.start : entity.end] != entity.text:
                    raise InputError(tags_path, number, f"mention {entity.text!r} does not match {doc_id}.txt")
            docs.append(Document(doc_id, text, tuple(e for _, e in tags.get(doc_id, []))))
        out[split] = docs
    return Loaded(
        out,
        ["split lists from spyysalo/linnaeus-corpus; unfiltered tags.tsv; id = NCBI Taxonomy species id"],
    )


def _read_tags(path: Path, report: Report) -> dict[str, list[tuple[int, Entity]]]:
    """Document id -> (line number, entity) for every row of ``tags.tsv``."""
    out: dict[str, list[tuple[int, Entity]]] = defaultdict(list)
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 6 or not fields[2].isdigit() or not fields[3].isdigit():
            raise InputError(path, number, "expected 'species id<TAB>document<TAB>start<TAB>end<TAB>text<TAB>code'")
        species, doc_id, start, end, mention, code = fields
        attrs = make_attrs({"code": code}) if code else ()
        out[doc_id].append((number, Entity(int(start), int(end), "Species", mention, id=species, attrs=attrs)))
    return out
