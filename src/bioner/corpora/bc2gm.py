"""BioCreative II Gene Mention: ``.in`` sentences with ``GENE.eval`` / ``ALTGENE.eval`` mentions.

The ``.eval`` offsets count non-whitespace characters only and the end is inclusive
(README.GM); they are converted here to half-open offsets into the sentence text.
``ALTGENE`` lists the alternative boundaries the official evaluation accepts; they are
kept in ``doc.meta["alternatives"]`` as ``[start, end]`` pairs for users who score with them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bioner.corpora.common import Loaded
from bioner.errors import InputError, Report
from bioner.formats.common import read_text
from bioner.types import Document, entity_at

_FILES = {
    "train": ("spyysalo-bc2gm-corpus/devel-split/train", "train.in"),
    "dev": ("spyysalo-bc2gm-corpus/devel-split/devel", "devel.in"),
    "test": ("spyysalo-bc2gm-corpus/original-data/test", "test.in"),
}

Mention = tuple[int, int]
"""Real half-open character offsets."""


def load(folder: Path, splits: Sequence[str], report: Report) -> Loaded:
    out = {}
    for split in splits:
        sub, name = _FILES[split]
        out[split] = read_split(folder / sub, name, report)
    return Loaded(
        out,
        [
            "train/dev = the 12,500/2,500-sentence split of the 15,000 official training sentences "
            "(spyysalo/bc2gm-corpus devel-split); test = the official 5,000 test sentences",
            "one document per sentence; ALTGENE alternative boundaries in doc.meta['alternatives']",
        ],
    )


def read_split(folder: Path, sentences_file: str, report: Report) -> list[Document]:
    """Documents (one per sentence, in file order) with GENE mentions and ALTGENE alternatives."""
    sentences = _read_sentences(folder / sentences_file, report)
    genes = _read_eval(folder / "GENE.eval", sentences, report)
    alternatives = _read_eval(folder / "ALTGENE.eval", sentences, report)
    docs = []
    for sid, text in sentences.items():
        entities = [entity_at(text, s, e, "GENE") for s, e in genes.get(sid, ())]
        alts = sorted([s, e] for s, e in alternatives.get(sid, ()))
        meta = {"alternatives": alts} if alts else {}
        docs.append(Document(sid, text, tuple(entities), sentences=((0, len(text)),), meta=meta))
    return docs


def _read_sentences(path: Path, report: Report) -> dict[str, str]:
    sentences: dict[str, str] = {}
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line.strip():
            continue
        sid, sep, text = line.partition(" ")
        if not sep or not text.strip():
            raise InputError(path, number, "expected 'sentence-id sentence text'")
        if sid in sentences:
            raise InputError(path, number, f"sentence id {sid} occurs twice")
        sentences[sid] = text
    return sentences


def _read_eval(path: Path, sentences: dict[str, str], report: Report) -> dict[str, list[Mention]]:
    """Mentions by sentence id, converted from non-whitespace counts to character offsets."""
    positions: dict[str, list[int]] = {}
    out: dict[str, list[Mention]] = defaultdict(list)
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line.strip():
            continue
        parts = line.split("|", 2)
        if len(parts) != 3:
            raise InputError(path, number, "expected 'sentence-id|start end|text'")
        sid, span, mention = parts
        if sid not in sentences:
            raise InputError(path, number, f"unknown sentence id {sid}")
        try:
            first, last = (int(x) for x in span.split())
        except ValueError:
            raise InputError(path, number, f"bad offsets {span!r}") from None
        text = sentences[sid]
        if sid not in positions:
            positions[sid] = [i for i, ch in enumerate(text) if not ch.isspace()]
        chars = positions[sid]
        if not 0 <= first <= last < len(chars):
            raise InputError(path, number, f"offsets {span} outside the sentence ({len(chars)} non-space characters)")
        start, end = chars[first], chars[last] + 1
        if text[start:end] != mention:
            start = _nearest(text, mention, start)
            if start < 0:
                raise InputError(path, number, f"mention {mention!r} does not occur in sentence {sid}")
            end = start + len(mention)
            report.warn(f"BC2GM {path.name}: offsets realigned to the mention text (upstream offset error)")
        out[sid].append((start, end))
    return out


def _nearest(text: str, mention: str, start: int) -> int:
    """Start of the occurrence of ``mention`` in ``text`` closest to ``start`` (-1 if none)."""
    found, best = text.find(mention), -1
    while found >= 0:
        if best < 0 or abs(found - start) < abs(best - start):
            best = found
        found = text.find(mention, found + 1)
    return best
