"""BioCreative IV CHEMDNER: title/abstract texts (SciLK JSON) plus the official annotation files.

Annotations give offsets into the title (``T``) or the abstract (``A``); a document's
text is ``title + " " + abstract`` with two passages, so abstract offsets shift by the
title length plus one. Sentence spans come from ``borders_all.tsv``, the segmentation
in which every mention lies inside one sentence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from bioner.corpora.common import Loaded
from bioner.errors import InputError, Report
from bioner.formats.common import read_text
from bioner.types import Document, Entity, Passage, Span, make_attrs

_CORPUS = "SciLK/chemdner_corpus"
_TEXTS = "SciLK/chemdner_sentence_borders"
_UPSTREAM = {"train": "training", "dev": "development", "test": "testing"}

Annotation = tuple[str, int, int, str, str, int]
"""(part T|A, start, end, mention text, CHEMDNER class, line number)."""

Borders = dict[str, dict[str, list[Span]]]
"""PMID -> "T"/"A" -> sentence spans within that part."""


def load(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    titles = _read_texts(folder / _TEXTS / "titles", report)
    abstracts = _read_texts(folder / _TEXTS / "bodies", report)
    sentences = _read_borders(folder / _TEXTS / "borders_all.tsv", report)
    out = {}
    for split in splits:
        name = _UPSTREAM[split]
        order = list(_read_borders(folder / _CORPUS / f"{name}.borders.tsv", report))
        path = folder / _CORPUS / f"{name}.annotations.txt"
        mentions = _read_annotations(path, report)
        docs = []
        for pmid in order:
            if pmid not in titles or pmid not in abstracts:
                raise InputError(folder / _TEXTS, None, f"no title or abstract text for PMID {pmid}")
            docs.append(_document(pmid, titles[pmid], abstracts[pmid], mentions.pop(pmid, []), sentences, report, path))
        if mentions:
            raise InputError(path, None, f"{len(mentions)} PMIDs are not in {name}.borders.tsv")
        out[split] = docs
    return Loaded(
        out,
        [
            "splits = the official CHEMDNER training / development / evaluation sets (SciLK names them testing)",
            "text = title + ' ' + abstract; label Chemical, the CHEMDNER class in attrs['class']",
            "sentences from borders_all.tsv (every mention inside one sentence)",
        ],
    )


def _document(
    pmid: str,
    title: str,
    abstract: str,
    mentions: list[Annotation],
    borders: Borders,
    report: Report,
    path: Path,
) -> Document:
    shift = {"T": 0, "A": len(title) + 1}
    text = f"{title} {abstract}"
    entities, empty = [], []
    for part, start, end, mention, cls, number in mentions:
        if (title if part == "T" else abstract)[start:end] != mention:
            raise InputError(path, number, f"mention {mention!r} does not match the {part} text of PMID {pmid}")
        if start == end:
            empty.append({"start": start + shift[part], "class": cls})
            continue
        entities.append(
            Entity(start + shift[part], end + shift[part], "Chemical", mention, attrs=make_attrs({"class": cls}))
        )
    if empty:
        report.lose("BC4CHEMD: zero-length mentions (no text), kept in doc.meta['empty_mentions']", len(empty))
    parts = borders.get(pmid, {})
    spans = [(s + shift[p], e + shift[p]) for p in ("T", "A") for s, e in parts.get(p, [])]
    ordered = all(a[1] <= b[0] for a, b in pairwise(spans))
    if not spans or not ordered or spans[-1][1] > len(text) or spans[0][0] < 0:
        report.warn("BC4CHEMD: documents without consistent sentence borders (sentences left unset)")
        spans_or_none: tuple[Span, ...] | None = None
    else:
        spans_or_none = tuple(spans)
    passages = (Passage(0, title, "title"), Passage(shift["A"], abstract, "abstract"))
    meta = {"empty_mentions": empty} if empty else {}
    return Document(pmid, text, tuple(entities), passages, spans_or_none, meta)


def _read_texts(folder: Path, report: Report) -> dict[str, str]:
    """PMID -> text from every ``*.json`` frame file of a folder."""
    texts: dict[str, str] = {}
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError(folder, None, "no *.json text files found")
    for path in files:
        try:
            frames = json.loads(read_text(path, report))["frames"]
            for frame in frames:
                texts[str(frame["id"])] = frame["text"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise InputError(path, None, f"not a SciLK frame file ({err})") from None
    return texts


def _read_borders(path: Path, report: Report) -> Borders:
    borders: Borders = {}
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line:
            continue
        try:
            pmid, part, span = line.split("\t")
            start, end = (int(x) for x in span.split(":"))
        except ValueError:
            raise InputError(path, number, "expected 'PMID<TAB>T|A<TAB>start:end'") from None
        borders.setdefault(pmid, {}).setdefault(part, []).append((start, end))
    return borders


def _read_annotations(path: Path, report: Report) -> dict[str, list[Annotation]]:
    """PMID -> annotations in file order."""
    out: dict[str, list[Annotation]] = defaultdict(list)
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 6 or fields[1] not in ("T", "A"):
            raise InputError(path, number, "expected 'PMID<TAB>T|A<TAB>start<TAB>end<TAB>text<TAB>class'")
        pmid, part, start, end, mention, cls = fields
        if not start.isdigit() or not end.isdigit() or int(end) < int(start):
            raise InputError(path, number, f"bad offsets {start}-{end}")
        out[pmid].append((part, int(start), int(end), mention, cls, number))
    return out
