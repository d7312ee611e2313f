"""Corpora distributed as PubTator files: NCBI-disease, BC5CDR, BioRED and tmVar 3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bioner.corpora.common import Loaded, carve_every
from bioner.errors import Report
from bioner.formats import read_documents
from bioner.types import Document, Entity, make_attrs

_NCBI = {
    "train": "train/NCBItrainset_corpus.txt",
    "dev": "devel/NCBIdevelopset_corpus.txt",
    "test": "test/NCBItestset_corpus.txt",
}
_BC5CDR = {
    "train": "CDR_TrainingSet.PubTator.txt",
    "dev": "CDR_DevelopmentSet.PubTator.txt",
    "test": "CDR_TestSet.PubTator.txt",
}
_BIORED = {"train": "Train.PubTator", "dev": "Dev.PubTator", "test": "Test.PubTator"}
TMVAR_DEV_EVERY = 10
"""tmVar 3 has no dev split: every 10th training document in PMID order is held out as dev."""


def _read(path: Path, report: Report, realign: bool = False) -> list[Document]:
    return list(read_documents(path, "pubtator", report, realign=realign))


def load_ncbi_disease(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    """The four NCBI mention types collapse to ``Disease``; the original type stays in ``attrs["type"]``."""
    out = {}
    for split in splits:
        docs = drop_identical_duplicates(
            _read(folder / "spyysalo-ncbi-disease/original-data" / _NCBI[split], report, realign=True), report
        )
        out[split] = [d.with_entities(_as_disease(e) for e in d.entities) for d in docs]
    return Loaded(
        out,
        [
            "official NCBI-disease train/devel/test files; the 4 mention types collapse to Disease "
            "(original type in attrs['type'])",
            "train lists PMID 8528200 twice with identical annotations: the second copy is dropped "
            "(592 documents, 5134 mentions, as in the usual IOB version)",
            "one train mention (PMID 10923035) has trailing spaces in its text column: the spaces are stripped",
        ],
    )


def _as_disease(e: Entity) -> Entity:
    return replace(e, label="Disease", attrs=make_attrs(dict(e.attrs), type=e.label))


def drop_identical_duplicates(docs: Sequence[Document], report: Report) -> list[Document]:
    """Keep the first of documents that repeat an earlier one exactly (same id, text and entities)."""
    kept: list[Document] = []
    first: dict[str, Document] = {}
    for doc in docs:
        earlier = first.setdefault(doc.id, doc)
        if earlier is not doc and earlier == doc:
            report.warn("identical duplicate documents dropped after reading (first copy kept)")
            continue
        kept.append(doc)
    return kept


def load_bc5cdr(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    base = folder / "CDR_Data/CDR.Corpus.v010516"
    out = {split: _read(base / _BC5CDR[split], report) for split in splits}
    return Loaded(out, ["official BC5CDR train/dev/test PubTator files; CID relations in doc.meta['relations']"])


def load_biored(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    out = {split: _read(folder / "BioRED" / _BIORED[split], report) for split in splits}
    return Loaded(
        out,
        [
            "official BioRED Train/Dev/Test PubTator files; relations in doc.meta['relations']",
            "BioRED reuses abstracts of BC5CDR (204) and NCBI-disease (11): beware of leakage when mixing corpora",
        ],
    )


def load_tmvar3(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    base = folder / "AIONER/data/pubtator"
    out: dict[str, list[Document]] = {}
    notes = [
        "train/test = AIONER's tmVar3_Train/tmVar3_Test split (342/158 abstracts; test = the tmVar 2.0 "
        "normalization corpus)",
        f"dev carved from AIONER train: every {TMVAR_DEV_EVERY}th document in PMID order (indices 0, 10, 20, ...; "
        "deterministic)",
    ]
    if "train" in splits or "dev" in splits:
        train, dev = carve_every(_read(base / "tmVar3_Train.PubTator", report, realign=True), TMVAR_DEV_EVERY)
        out.update({"train": train, "dev": dev})
        notes[-1] += f": {len(dev)} dev / {len(train)} train documents"
        notes.append("train PMID 21904390 lacks a space ('PAX6gene'): its later offsets are realigned to their text")
    if "test" in splits:
        out["test"] = _read(base / "tmVar3_Test.PubTator", report)
    return Loaded(out, notes)
