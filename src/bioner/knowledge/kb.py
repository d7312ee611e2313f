"""A knowledge base of entity names: (name, type, identifiers, sources, count), deduplicated and normalised.

Entries come from the training splits of named corpora (mentions, with their concept
identifiers, so synonyms of one concept are linked) and from user files (TSV or JSONL,
for example names and semantic types extracted from UMLS MRCONSO/MRSTY). Every entry
remembers its sources (``corpus/split`` or a file name), which is how the test-leak
guard works: a knowledge base that holds a test-split mention refuses to be used for
training (:meth:`KnowledgeBase.check_no_test_leak`), and building from a test split is
refused outright.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bioner.errors import BionerError, InputError, Report
from bioner.formats.common import open_write, read_text
from bioner.types import Document

TSV_COLUMNS = ("name", "type", "id", "source", "count")
"""Columns of a knowledge-base TSV; only ``name`` and ``type`` are required, a header line is optional."""
MULTI_SEP = "|"
"""Separates several identifiers or sources inside one field."""
TEST_SPLITS = frozenset({"test"})
"""Splits whose mentions must never reach a knowledge base used for training."""

_SPACE = re.compile(r"\s+")
_ID_SPLIT = re.compile(r"[|,;]")


def normalize_name(name: str) -> str:
    """The dedup key of a name: Unicode NFKC, whitespace runs collapsed, case folded."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold()


def clean_name(name: str) -> str:
    """A name as shown: NFKC with whitespace runs collapsed (case kept)."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", name)).strip()


@dataclass
class KBEntry:
    """One (name, type) of the knowledge base, with every identifier and source it was seen with."""

    name: str
    type: str
    ids: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    count: int = 1
    """How many mentions or file rows gave this (name, type)."""

    @property
    def key(self) -> tuple[str, str]:
        return normalize_name(self.name), self.type


class KnowledgeBase:
    """Entries keyed by (normalised name, type), in first-seen order."""

    def __init__(self, entries: Iterable[KBEntry] = ()) -> None:
        self._entries: dict[tuple[str, str], KBEntry] = {}
        for entry in entries:
            self.add(entry.name, entry.type, entry.ids, entry.sources, entry.count)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[KBEntry]:
        return iter(self._entries.values())

    @property
    def entries(self) -> list[KBEntry]:
        return list(self._entries.values())

    def add(self, name: str, type_: str, ids: Iterable[str] = (), sources: Iterable[str] = (), count: int = 1) -> bool:
        """Add (or merge into) an entry; returns False for a name that is empty once normalised."""
        shown = clean_name(name)
        if not shown or not type_.strip():
            return False
        key = (normalize_name(shown), type_.strip())
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = KBEntry(shown, key[1], count=0)
        entry.ids.update(i.strip() for i in ids if i.strip())
        entry.sources.update(s for s in sources if s)
        entry.count += count
        return True

    def merge(self, other: KnowledgeBase) -> None:
        for entry in other:
            self.add(entry.name, entry.type, entry.ids, entry.sources, entry.count)

    def types(self) -> list[str]:
        return sorted({e.type for e in self})

    def stats(self) -> dict[str, dict[str, int]]:
        """Per type: distinct names, mentions (summed counts), names with an identifier."""
        out: dict[str, dict[str, int]] = {}
        for e in self:
            row = out.setdefault(e.type, {"names": 0, "mentions": 0, "with_id": 0})
            row["names"] += 1
            row["mentions"] += e.count
            row["with_id"] += bool(e.ids)
        return dict(sorted(out.items()))

    def synonyms(self) -> dict[str, list[KBEntry]]:
        """Entries grouped by concept identifier: the names one concept is known by."""
        groups: dict[str, list[KBEntry]] = {}
        for e in self:
            for i in e.ids:
                groups.setdefault(i, []).append(e)
        return groups

    def check_no_test_leak(self, where: str = "knowledge base") -> None:
        """Refuse a knowledge base holding mentions of a test split (its sources say ``corpus/test``)."""
        leaked = Counter(s for e in self for s in e.sources if s.rpartition("/")[2] in TEST_SPLITS)
        if leaked:
            source, n = leaked.most_common(1)[0]
            raise BionerError(
                f"{where}: {sum(leaked.values())} entries come from a test split ({source}: {n}); "
                "test mentions must never be used for training — rebuild it from train (and dev) splits only"
            )

    def save(self, path: str | Path) -> Path:
        """TSV (``.tsv``) or JSONL (anything else), written atomically."""
        target = Path(path)
        with open_write(target) as out:
            if _is_tsv(target):
                out.write("\t".join(TSV_COLUMNS) + "\n")
            for e in self:
                ids, sources = MULTI_SEP.join(sorted(e.ids)), MULTI_SEP.join(sorted(e.sources))
                if _is_tsv(target):
                    out.write("\t".join((e.name, e.type, ids, sources, str(e.count))) + "\n")
                else:
                    row = {"name": e.name, "type": e.type, "id": ids or None, "source": sources or None}
                    out.write(json.dumps({**row, "count": e.count}, ensure_ascii=False) + "\n")
        return target


def _is_tsv(path: Path) -> bool:
    return path.suffix.lower() in {".tsv", ".txt", ".tab"}


def load_kb(path: str | Path, report: Report | None = None) -> KnowledgeBase:
    """Read a knowledge base from TSV (``name, type[, id[, source[, count]]]``) or JSONL.

    Malformed rows are one-line errors naming file and line; rows without a source get
    the file's name as their source.
    """
    target = Path(path)
    text = read_text(target, report)
    kb = KnowledgeBase()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if _is_tsv(target):
            cells = line.split("\t")
            if number == 1 and [c.strip().lower() for c in cells[:2]] == ["name", "type"]:
                continue
            name, type_, ids, sources, count = _tsv_row(cells, target, number)
        else:
            name, type_, ids, sources, count = _json_row(line, target, number)
        if not kb.add(name, type_, _split(ids, _ID_SPLIT), _split(sources) or [target.name], count):
            raise InputError(target, number, "empty name or type")
    return kb


def _tsv_row(cells: Sequence[str], path: Path, line: int) -> tuple[str, str, str, str, int]:
    if not 2 <= len(cells) <= len(TSV_COLUMNS):
        raise InputError(path, line, f"expected 2 to {len(TSV_COLUMNS)} tab-separated columns, got {len(cells)}")
    padded = [*cells, "", "", ""][: len(TSV_COLUMNS)]
    return padded[0], padded[1], padded[2], padded[3], _count(padded[4], path, line)


def _json_row(line: str, path: Path, number: int) -> tuple[str, str, str, str, int]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise InputError(path, number, f"invalid JSON: {err.msg}") from None
    if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not isinstance(row.get("type"), str):
        raise InputError(path, number, 'expected an object with string "name" and "type"')
    count = row.get("count", 1)
    return row["name"], row["type"], row.get("id") or "", row.get("source") or "", _count(str(count), path, number)


def _count(text: str, path: Path, line: int) -> int:
    if not text.strip():
        return 1
    try:
        value = int(text)
    except ValueError:
        raise InputError(path, line, f"count must be an integer, got {text!r}") from None
    if value < 1:
        raise InputError(path, line, f"count must be at least 1, got {value}")
    return value


def _split(text: str, pattern: re.Pattern[str] = re.compile(r"\|")) -> list[str]:
    return [part.strip() for part in pattern.split(text) if part.strip()]


def kb_from_documents(docs: Iterable[Document], source: str) -> KnowledgeBase:
    """Every mention of ``docs`` as an entry, with its identifiers (``|``, ``,`` or ``;`` separated)."""
    kb = KnowledgeBase()
    for doc in docs:
        for e in doc.entities:
            kb.add(e.text, e.label, _split(e.id or "", _ID_SPLIT), [source])
    return kb


def build_kb(
    corpora: Sequence[str] = (),
    files: Sequence[str | Path] = (),
    *,
    splits: Sequence[str] = ("train",),
    data_dir: str | Path | None = None,
    report: Report | None = None,
) -> KnowledgeBase:
    """A knowledge base from the given splits of named corpora, merged with user files.

    Asking for a test split is refused: its mentions would leak the test answers into training.
    """
    leaking = [s for s in splits if s in TEST_SPLITS]
    if leaking:
        raise BionerError(
            f"refusing to build a knowledge base from the {leaking[0]!r} split: it would leak test answers"
        )
    from bioner.corpora import load_corpus

    kb = KnowledgeBase()
    for name in corpora:
        corpus = load_corpus(name, splits=list(splits), data_dir=data_dir, report=report)
        for split in splits:
            kb.merge(kb_from_documents(corpus.splits.get(split, []), f"{name}/{split}"))
    for path in files:
        kb.merge(load_kb(path, report))
    return kb
