"""Vocabularies for entity linking: concepts (identifiers and names) read from the shapes users have.

Readers: CTD's MEDIC (``ID[|ID...]||name|synonym...``, XML character references decoded),
a TSV of ``id<TAB>name[<TAB>synonym|synonym...]``, OBO (``[Term]`` stanzas: ``id``,
``alt_id``, ``name``, ``synonym``; obsolete terms skipped), UMLS ``MRCONSO.RRF`` (one
concept per CUI, English names not suppressed) and the training mentions of named corpora
with their gold identifiers (:func:`corpus_names`; test splits are refused, as for
knowledge bases). Identifiers are kept as the source writes them, except MEDIC's bare
OMIM numbers, written ``OMIM:123456`` as the corpora write them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bioner.errors import BionerError, InputError, Report
from bioner.formats.common import read_text
from bioner.knowledge.kb import TEST_SPLITS, clean_name

VOCAB_FORMATS = ("medic", "tsv", "obo", "mrconso")
CORPUS_PREFIX = "corpus:"
"""A vocabulary argument ``corpus:NAME`` means the training mentions of a named corpus."""
NIL_IDS = frozenset({"-1", "", "NIL", "CUI-less"})
"""Identifiers that corpora use for "no concept"."""
ID_SEPARATORS = re.compile(r"[|+,;]")
"""Between the identifiers of one mention (alternatives, or the parts of a composite mention)."""
UMLS_SUPPRESSED = frozenset({"O", "E", "Y"})


@dataclass(frozen=True)
class Concept:
    """One concept: its identifiers (alternatives of each other), preferred name first, then synonyms."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    type: str


@dataclass(frozen=True)
class MentionName:
    """A training mention's text with the identifiers its corpus gave it (several for a composite mention)."""

    name: str
    ids: tuple[str, ...]
    type: str
    count: int = 1


def split_ids(value: str | None) -> tuple[str, ...]:
    """A mention's identifier field as identifiers, NIL markers left out: ``"D1|D2"`` -> ``("D1", "D2")``."""
    parts = (p.strip() for p in ID_SEPARATORS.split(value or ""))
    return tuple(dict.fromkeys(p for p in parts if p not in NIL_IDS))


def guess_vocab_format(path: Path) -> str:
    """The format of a vocabulary file from its name, or from its first line (MEDIC's ``||``)."""
    name = path.name.lower()
    if name.endswith(".obo"):
        return "obo"
    if name.endswith(".rrf") or "mrconso" in name:
        return "mrconso"
    if name.endswith((".tsv", ".tab")):
        return "tsv"
    first = next((line for line in read_text(path).split("\n") if line.strip()), "")
    if "||" in first:
        return "medic"
    raise BionerError(f"{path}: cannot tell the vocabulary format; name it with --format ({', '.join(VOCAB_FORMATS)})")


def read_vocabulary(
    path: str | Path, type_: str, fmt: str | None = None, report: Report | None = None
) -> list[Concept]:
    """The concepts of one vocabulary file, all of entity type ``type_``."""
    target = Path(path)
    fmt = fmt or guess_vocab_format(target)
    readers = {"medic": read_medic, "tsv": read_tsv, "obo": read_obo, "mrconso": read_mrconso}
    if fmt not in readers:
        raise BionerError(f"unknown vocabulary format {fmt!r}; expected one of {', '.join(VOCAB_FORMATS)}")
    concepts = readers[fmt](target, type_, report)
    if not concepts:
        raise BionerError(f"{target}: no concepts found (read as {fmt})")
    return concepts


def read_medic(path: Path, type_: str = "Disease", report: Report | None = None) -> list[Concept]:
    """CTD MEDIC: ``ID[|ID...]||name|synonym...`` per line; bare OMIM numbers become ``OMIM:...``."""
    concepts = []
    decoded = 0
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line.strip():
            continue
        ids_part, sep, names_part = line.partition("||")
        if not sep:
            raise InputError(path, number, "expected ID[|ID...]||name[|synonym...]")
        ids = tuple(f"OMIM:{i}" if i.isdigit() else i for i in split_ids(ids_part))
        unescaped = html.unescape(names_part)
        decoded += unescaped != names_part
        names = _names(unescaped.split("|"))
        if not ids or not names:
            raise InputError(path, number, "a concept needs at least one identifier and one name")
        concepts.append(Concept(ids, names, type_))
    if report is not None:
        report.warn(f"{path.name}: lines with XML character references decoded", decoded)
    return concepts


def read_tsv(path: Path, type_: str, report: Report | None = None) -> list[Concept]:
    """``id<TAB>name[<TAB>synonym|synonym...]``; an optional ``id<TAB>name`` header; rows of one id merge."""
    by_id: dict[str, list[str]] = {}
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if number == 1 and [c.strip().lower() for c in cells[:2]] == ["id", "name"]:
            continue
        if not 2 <= len(cells) <= 3 or not cells[0].strip() or not cells[1].strip():
            raise InputError(path, number, "expected id<TAB>name[<TAB>synonyms separated by |]")
        names = [cells[1], *(cells[2].split("|") if len(cells) == 3 else [])]
        by_id.setdefault(cells[0].strip(), []).extend(names)
    return [Concept((i,), _names(names), type_) for i, names in by_id.items()]


def read_obo(path: Path, type_: str, report: Report | None = None) -> list[Concept]:
    """OBO ``[Term]`` stanzas: ``id`` and ``alt_id`` the identifiers, ``name`` and ``synonym`` the names."""
    concepts: list[Concept] = []
    stanza: str | None = None
    ids: list[str] = []
    names: list[str] = []
    obsolete = False
    skipped = 0

    def finish() -> None:
        nonlocal skipped
        if stanza == "Term" and ids and names:
            if obsolete:
                skipped += 1
            else:
                concepts.append(Concept(tuple(dict.fromkeys(ids)), _names(names), type_))

    for number, raw in enumerate([*read_text(path, report).split("\n"), "[End]"], start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            finish()
            stanza, ids, names, obsolete = line[1:-1], [], [], False
            continue
        if stanza != "Term" or not line or line.startswith("!"):
            continue
        tag, sep, value = line.partition(":")
        if not sep:
            raise InputError(path, number, "expected tag: value")
        value = value.strip()
        if tag in {"id", "alt_id"}:
            ids.append(value.split(" !")[0].strip())
        elif tag == "name":
            names.insert(0, value)
        elif tag == "synonym":
            match = re.match(r'"((?:[^"\\]|\\.)*)"', value)
            if match is None:
                raise InputError(path, number, 'a synonym is a quoted string: synonym: "name" EXACT []')
            names.append(match.group(1).replace('\\"', '"'))
        elif tag == "is_obsolete":
            obsolete = value == "true"
    if report is not None:
        report.warn(f"{path.name}: obsolete terms skipped", skipped)
    return concepts


def read_mrconso(
    path: Path, type_: str, report: Report | None = None, languages: Sequence[str] = ("ENG",)
) -> list[Concept]:
    """UMLS ``MRCONSO.RRF``: a concept per CUI, preferred name first; other languages and suppressed names skipped."""
    by_cui: dict[str, list[str]] = {}
    preferred: dict[str, str] = {}
    skipped = 0
    for number, line in enumerate(read_text(path, report).split("\n"), start=1):
        if not line.strip():
            continue
        cells = line.split("|")
        if len(cells) < 17:
            raise InputError(path, number, f"expected the 18 |-separated columns of MRCONSO.RRF, got {len(cells)}")
        cui, language, term_status, is_preferred, name, suppress = (
            cells[0],
            cells[1],
            cells[2],
            cells[6],
            cells[14],
            cells[16],
        )
        if language not in languages or suppress in UMLS_SUPPRESSED:
            skipped += 1
            continue
        by_cui.setdefault(cui, []).append(name)
        if term_status == "P" and is_preferred == "Y":
            preferred.setdefault(cui, name)
    if report is not None:
        report.warn(f"{path.name}: names of other languages or suppressed skipped", skipped)
    return [Concept((cui,), _names([preferred.get(cui, names[0]), *names]), type_) for cui, names in by_cui.items()]


def corpus_names(
    corpus: str,
    splits: Sequence[str] = ("train",),
    data_dir: str | Path | None = None,
    report: Report | None = None,
) -> list[MentionName]:
    """The mentions with identifiers of named corpus splits, counted per (text, identifiers, type).

    A test split is refused: linking accuracy on it would be measured against its own answers.
    """
    leaking = [s for s in splits if s in TEST_SPLITS]
    if leaking:
        raise BionerError(f"refusing to take link names from the {leaking[0]!r} split: it would leak test answers")
    from bioner.corpora import load_corpus

    loaded = load_corpus(corpus, splits=list(splits), data_dir=data_dir, report=report)
    counts: dict[tuple[str, tuple[str, ...], str], int] = {}
    for split in splits:
        for doc in loaded.splits[split]:
            for e in doc.entities:
                ids = split_ids(e.id)
                if ids and clean_name(e.text):
                    key = (clean_name(e.text), ids, e.label)
                    counts[key] = counts.get(key, 0) + 1
    return [MentionName(name, ids, type_, n) for (name, ids, type_), n in counts.items()]


def _names(names: Iterable[str]) -> tuple[str, ...]:
    """Names cleaned (NFKC, whitespace collapsed), empty ones dropped, each once, order kept."""
    return tuple(dict.fromkeys(n for n in (clean_name(name) for name in names) if n))
