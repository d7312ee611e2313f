"""BioCreative VI ChemProt, NER view: the official abstracts and entities tables.

Entity offsets index ``title + separator + abstract``; no mention crosses the
separator, so a single space is used, as for PubTator texts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bioner.corpora.common import Loaded
from bioner.errors import InputError, Report
from bioner.formats.common import read_text
from bioner.types import Document, Entity, Passage, make_attrs

_FILES = {
    "train": ("chemprot_training", "chemprot_training_abstracts.tsv", "chemprot_training_entities.tsv"),
    "dev": ("chemprot_development", "chemprot_development_abstracts.tsv", "chemprot_development_entities.tsv"),
    "test": ("chemprot_test_gs", "chemprot_test_abstracts_gs.tsv", "chemprot_test_entities_gs.tsv"),
}


def load(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    out = {}
    for split in splits:
        sub, abstracts, entities = _FILES[split]
        base = folder / "ChemProt_Corpus" / sub
        out[split] = read_split(base / abstracts, base / entities, report)
    return Loaded(
        out, ["official BioCreative VI splits; text = title + ' ' + abstract; brat-style ids in attrs['tid']"]
    )


def read_split(abstracts: Path, entities: Path, report: Report) -> list[Document]:
    """Documents in the order of the abstracts table, with their entities."""
    texts: dict[str, str] = {}
    passages: dict[str, tuple[Passage, Passage]] = {}
    for number, line in enumerate(read_text(abstracts, report).split("\n"), start=1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise InputError(abstracts, number, "expected 'PMID<TAB>title<TAB>abstract'")
        pmid, title, abstract = fields
        texts[pmid] = f"{title} {abstract}"
        passages[pmid] = (Passage(0, title, "title"), Passage(len(title) + 1, abstract, "abstract"))
    mentions: dict[str, list[Entity]] = defaultdict(list)
    for number, line in enumerate(read_text(entities, report).split("\n"), start=1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 6 or not fields[3].isdigit() or not fields[4].isdigit():
            raise InputError(entities, number, "expected 'PMID<TAB>T#<TAB>type<TAB>start<TAB>end<TAB>text'")
        pmid, tid, label, start, end, mention = fields
        if pmid not in texts:
            raise InputError(entities, number, f"PMID {pmid} is not in {abstracts.name}")
        if texts[pmid][int(start) : int(end)] != mention:
            raise InputError(entities, number, f"mention {mention!r} does not match the text at {start}-{end}")
        mentions[pmid].append(Entity(int(start), int(end), label, mention, attrs=make_attrs({"tid": tid})))
    return [Document(pmid, text, tuple(mentions[pmid]), passages[pmid]) for pmid, text in texts.items()]
