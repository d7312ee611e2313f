"""JNLPBA 2004 (GENIA bio-entity task): spyysalo's brat standoff of the official train and test sets.

There is no official dev set. The usual one (Crichton et al.'s MTL files, used by most
papers since) is the last 200 abstracts of the official training file, so the training
order is read from ``Genia4ERtask2.iob2``'s ``###MEDLINE:`` boundary lines. MEDLINE ids
that occur twice there are the ``<id>-2`` documents of the standoff.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bioner.corpora.common import Loaded
from bioner.errors import InputError, Report
from bioner.formats import read_documents
from bioner.formats.common import read_text
from bioner.types import Document

LABELS = ("DNA", "RNA", "cell_line", "cell_type", "protein")
DEV_SIZE = 200
"""The dev split is the last ``DEV_SIZE`` abstracts of the official training order (MTL convention)."""

_TRAIN_ORDER = "wolfe/wolfe-examples/src/main/resources/ml/wolfe/datasets/genia/Genia4ERtraining/Genia4ERtask2.iob2"
_TEST_ORDER = "spyysalo-jnlpba/original-data/test/Genia4EReval2.iob2"
_STANDOFF = "spyysalo-jnlpba/standoff"
_PMIDS = "spyysalo-jnlpba/conversion/MUID-PMID-map.txt"
_MARK = "###MEDLINE:"


def load(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    pmids = _read_pmid_map(folder / _PMIDS, report)
    out: dict[str, list[Document]] = {}
    if "train" in splits or "dev" in splits:
        docs = _in_order(folder / _STANDOFF / "train", folder / _TRAIN_ORDER, pmids, report)
        out.update({"train": docs[:-DEV_SIZE], "dev": docs[-DEV_SIZE:]})
    if "test" in splits:
        out["test"] = _in_order(folder / _STANDOFF / "test", folder / _TEST_ORDER, pmids, report)
    return Loaded(
        out,
        [
            "train/test = the official JNLPBA sets (spyysalo/jnlpba brat standoff); document id = MEDLINE UID, "
            "PMID in doc.meta['pmid']",
            f"dev = the last {DEV_SIZE} training abstracts (indices 1800-1999) in the order of Genia4ERtask2.iob2 "
            "(MTL convention): train 1800 / dev 200 abstracts",
            "10 abstracts are shared by train and test (upstream; same text, slightly different annotations)",
        ],
    )


def abstract_order(path: Path, report: Report) -> list[str]:
    """Document ids in the order of an IOB2 file's ``###MEDLINE:`` lines; a repeated id gets ``-2``, ``-3``..."""
    seen: Counter[str] = Counter()
    order = []
    for line in read_text(path, report).split("\n"):
        if line.startswith(_MARK):
            muid = line[len(_MARK) :].strip()
            seen[muid] += 1
            order.append(muid if seen[muid] == 1 else f"{muid}-{seen[muid]}")
    if not order:
        raise InputError(path, None, f"no '{_MARK}' document boundary lines")
    return order


def _in_order(standoff: Path, order_file: Path, pmids: dict[str, str], report: Report) -> list[Document]:
    docs = {d.id: d for d in read_documents(standoff, "brat", report)}
    order = abstract_order(order_file, report)
    missing = [i for i in order if i not in docs]
    if missing or len(order) != len(docs):
        extra = sorted(set(docs) - set(order))
        raise InputError(
            standoff,
            None,
            f"standoff documents differ from {order_file.name}: missing {missing[:3]}, extra {extra[:3]}",
        )
    return [_with_pmid(docs[i], pmids) for i in order]


def _with_pmid(doc: Document, pmids: dict[str, str]) -> Document:
    pmid = pmids.get(doc.id.split("-")[0])
    return replace(doc, meta={**doc.meta, "pmid": pmid}) if pmid else doc


def _read_pmid_map(path: Path, report: Report) -> dict[str, str]:
    """MEDLINE UID -> PMID, from the ``MUID<TAB>PMID`` map file."""
    out = {}
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2:
            raise InputError(path, number, "expected 'MUID<TAB>PMID'")
        out[fields[0]] = fields[1]
    return out
