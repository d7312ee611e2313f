"""BRAT standoff: a ``.txt`` file with the text and a ``.ann`` file with one annotation per line.

``T1<TAB>Type start end[;start end...]<TAB>text`` lines are entities (the T id is kept in the attribute
``brat_id`` so a round trip keeps the ids that other lines refer to); ``N1<TAB>Reference T1 DB:ID[<TAB>text]``
lines give the entity its ``id``. All other lines (relations, events, attributes, notes) are kept
verbatim in ``doc.meta["brat_other"]`` and written back. Offsets count the ``.txt`` characters as they
are, CRLF included. A discontinuous entity (``0 5;10 15``) cannot be one span: it is skipped and counted
by default, or read as its covering span (``discontinuous="cover"``) or one entity per fragment
(``"fragments"``), both of which write back as the original discontinuous line. A discontinuous entity
whose text is in brat's pre-1.3 form (fragments joined without a space) is read with a warning, as brat does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bioner.errors import BionerError, InputError, Report, excerpt
from bioner.formats.common import count_lost_extras, fragments_in_order, open_write, read_text
from bioner.types import Document, Entity, Span, make_attrs

ID, NORM_ID, NORM_TEXT, SPANS, FRAGMENT = "brat_id", "brat_norm_id", "brat_norm_text", "brat_spans", "brat_fragment"
_HELD = frozenset({ID, NORM_ID, NORM_TEXT, SPANS, FRAGMENT})
DISCONTINUOUS = ("skip", "cover", "fragments")
_SPAN = re.compile(r"^(\d+) (\d+)$")
_SAFE_NAME = re.compile(r"^[^\W_][\w.+-]*$")
_BREAKS = re.compile(r"[\r\n]")


@dataclass
class _Mention:
    number: int
    label: str
    spans: list[Span]
    norm: dict[str, str] = field(default_factory=dict)


def read(path: str | Path, report: Report | None = None, *, discontinuous: str = "skip") -> Iterator[Document]:
    """Documents of a BRAT folder (every ``*.ann`` with its ``.txt``, by name) or of one ``.ann``/``.txt``."""
    if discontinuous not in DISCONTINUOUS:
        raise BionerError(f"unknown discontinuous {discontinuous!r}; expected one of {', '.join(DISCONTINUOUS)}")
    report = report if report is not None else Report()
    for ann, txt in _pairs(Path(path), report):
        yield _document(ann, txt, report, discontinuous)


def _pairs(path: Path, report: Report) -> list[tuple[Path, Path]]:
    if path.is_dir():
        anns = sorted(path.glob("*.ann"))
        texts = {p.stem for p in path.glob("*.txt")}
        report.warn(f"{path.name}: .txt files without an .ann file (not read)", len(texts - {a.stem for a in anns}))
        if not anns:
            raise InputError(path, None, "no .ann files in this folder")
        return [(a, a.with_suffix(".txt")) for a in anns]
    if path.suffix in {".ann", ".txt"}:
        return [(path.with_suffix(".ann"), path.with_suffix(".txt"))]
    raise InputError(path, None, "expected a folder of BRAT files, an .ann or a .txt file")


def _document(ann: Path, txt: Path, report: Report, discontinuous: str) -> Document:
    if not txt.exists():
        raise InputError(ann, None, f"no text file {txt.name} beside it")
    if not ann.exists():
        raise InputError(txt, None, f"no annotation file {ann.name} beside it")
    text = read_text(txt, report, keep_crlf=True, allow_empty=True)
    mentions: dict[str, _Mention] = {}
    norms: list[str] = []
    other: list[str] = []
    for number, line in enumerate(read_text(ann, report, allow_empty=True).split("\n"), start=1):
        if not line.strip():
            continue
        if line.startswith("T"):
            brat_id, mention = _mention(ann, number, line, text, report)
            if brat_id in mentions:
                raise InputError(ann, number, f"duplicate annotation id {brat_id}")
            mentions[brat_id] = mention
        elif line.startswith("N"):
            norms.append(line)
        else:
            other.append(line)
    skipped: set[str] = set()
    if discontinuous == "skip":
        skipped = {k for k, m in mentions.items() if len(m.spans) > 1}
        report.lose("discontinuous entities skipped", len(skipped))
    for line in norms:
        if not _attach_norm(line, mentions, skipped):
            other.append(line)
    entities: list[Entity] = []
    for brat_id, m in mentions.items():
        if brat_id not in skipped:
            entities.extend(_entities(brat_id, m, text, report, discontinuous))
    if skipped:
        known = (set(mentions) - skipped) | {line.split("\t", 1)[0] for line in norms}
        other = _referring_to_written(other, known, report, "referring to a skipped entity")
    meta: dict[str, Any] = {"brat_other": other} if other else {}
    return Document(ann.stem, text, tuple(entities), meta=meta)


def _mention(ann: Path, number: int, line: str, text: str, report: Report) -> tuple[str, _Mention]:
    fields = line.split("\t", 2)
    if len(fields) < 3:
        raise InputError(ann, number, "entity line needs 3 tab-separated fields: id, 'Type start end', text")
    brat_id, type_spans, mention_text = fields
    label, _, span_list = type_spans.partition(" ")
    spans: list[Span] = []
    for part in span_list.split(";"):
        match = _SPAN.match(part.strip())
        if not label or not match:
            problem = f"malformed type and offsets {excerpt(type_spans)} (expected 'Type start end')"
            raise InputError(ann, number, problem)
        start, end = int(match[1]), int(match[2])
        if not start < end <= len(text) or (spans and start < spans[-1][1]):
            raise InputError(
                ann, number, f"offsets {start} {end} out of range or order for a text of {len(text)} characters"
            )
        spans.append((start, end))
    expected = " ".join(text[s:e] for s, e in spans)
    if mention_text not in {expected, _BREAKS.sub(" ", expected)}:
        form = _other_discontinuous_form([text[s:e] for s, e in spans], mention_text)
        if form is None:
            raise InputError(
                ann, number, f"entity text {excerpt(mention_text)} differs from the document text {excerpt(expected)}"
            )
        report.warn(form, 1)
    return brat_id, _Mention(number, label, spans)


def _other_discontinuous_form(fragments: Sequence[str], mention_text: str) -> str | None:
    """The warning for a discontinuous entity's text written in another tool's form, or None if it is none."""
    if len(fragments) < 2:
        return None
    joined = "".join(fragments)
    if mention_text in {joined, _BREAKS.sub(" ", joined)}:  # brat before 1.3 joined fragments without a space
        return "discontinuous entity texts in the pre-1.3 form (fragments not space-separated), read"
    if fragments_in_order([_BREAKS.sub(" ", f) for f in fragments], _BREAKS.sub(" ", mention_text)):
        return "discontinuous entity texts with other fragment separators (' ... '), read"
    return None


def _attach_norm(line: str, mentions: dict[str, _Mention], skipped: set[str]) -> bool:
    """Give the first normalization of a kept entity to that entity; anything else stays a verbatim line."""
    fields = line.split("\t", 2)
    parts = fields[1].split(" ") if len(fields) > 1 else []
    if len(parts) != 3 or parts[0] != "Reference" or parts[1] not in mentions or parts[1] in skipped:
        return False
    mention = mentions[parts[1]]
    if mention.norm:
        return False
    mention.norm = {NORM_ID: fields[0], "id": parts[2]}
    if len(fields) > 2:
        mention.norm[NORM_TEXT] = fields[2]
    return True


def _entities(brat_id: str, m: _Mention, text: str, report: Report, discontinuous: str) -> list[Entity]:
    base = {ID: brat_id}
    if NORM_ID in m.norm:
        base[NORM_ID] = m.norm[NORM_ID]
    norm_text = m.norm.get(NORM_TEXT)
    mention = " ".join(text[s:e] for s, e in m.spans)
    if norm_text is not None and norm_text not in {mention, _BREAKS.sub(" ", mention)}:
        base[NORM_TEXT] = norm_text
    entity_id = m.norm.get("id")
    if len(m.spans) == 1:
        (start, end), attrs = m.spans[0], base
    elif discontinuous == "cover":
        report.warn("discontinuous entities read as their covering span", 1)
        (start, end), attrs = (m.spans[0][0], m.spans[-1][1]), {**base, SPANS: _span_text(m.spans)}
    else:
        report.warn("discontinuous entities read as one entity per fragment", 1)
        n = len(m.spans)
        return [
            Entity(s, e, m.label, text[s:e], id=entity_id, attrs=make_attrs(base, **{FRAGMENT: f"{i}/{n}"}))
            for i, (s, e) in enumerate(m.spans, start=1)
        ]
    return [Entity(start, end, m.label, text[start:end], id=entity_id, attrs=make_attrs(attrs))]


def _span_text(spans: Sequence[Span]) -> str:
    return ";".join(f"{s} {e}" for s, e in spans)


def write(docs: Iterable[Document], path: str | Path) -> Report:
    """Write one ``<id>.txt`` and ``<id>.ann`` per document into the folder ``path``."""
    folder = Path(path)
    if folder.suffix in {".ann", ".txt"} or folder.is_file():
        raise BionerError(f"{folder}: BRAT is written to a folder (one .txt and .ann per document), not a file")
    report = Report()
    written: set[str] = set()
    for doc in docs:
        if not _SAFE_NAME.match(doc.id):
            raise BionerError(f"document id {doc.id!r} is not a safe file name for BRAT")
        if doc.id in written:
            raise BionerError(f"document id {doc.id!r} occurs twice; BRAT needs one file pair per document")
        written.add(doc.id)
        lines = _ann_lines(doc, report)
        with open_write(folder / f"{doc.id}.txt") as out:
            out.write(doc.text)
        with open_write(folder / f"{doc.id}.ann") as out:
            out.write("".join(f"{line}\n" for line in lines))
    return report


def _ann_lines(doc: Document, report: Report) -> list[str]:
    other = doc.meta.get("brat_other", [])
    valid = isinstance(other, list) and all(isinstance(line, str) and not _BREAKS.search(line) for line in other)
    other = other if valid else []
    for key in doc.meta:
        report.lose(f"document metadata ({key})", key != "brat_other" or not valid)
    report.lose("passages", len(doc.passages))
    report.lose("sentence spans", doc.sentences is not None)
    count_lost_extras(report, doc.entities, _HELD)
    groups = _group(doc.entities)
    t_ids = _Ids("T", [k for k, _ in groups])
    n_ids = _Ids("N", [es[0].attr(NORM_ID) for _, es in groups] + [line.split("\t")[0] for line in other])
    lines: list[str] = []
    norms: list[str] = []
    for recorded, entities in groups:
        first = entities[0]
        if not first.label or any(c.isspace() for c in first.label):
            raise BionerError(f"document {doc.id!r}: label {first.label!r} cannot be a BRAT type")
        spans = _spans(entities, len(doc.text))
        t_id = t_ids.take(recorded)
        mention = _BREAKS.sub(" ", " ".join(doc.text[s:e] for s, e in spans))
        lines.append(f"{t_id}\t{first.label} {_span_text(spans)}\t{mention}")
        if first.id is not None:
            if not first.id or any(c.isspace() for c in first.id):
                report.lose("entity ids that are empty or hold whitespace", 1)
                continue
            norm_text = _BREAKS.sub(" ", first.attr(NORM_TEXT) or mention)
            norms.append(f"{n_ids.take(first.attr(NORM_ID))}\tReference {t_id} {first.id}\t{norm_text}")
    written = {line.split("\t", 1)[0] for line in lines + norms}
    return lines + norms + _referring_to_written(other, written, report, "referring to an entity not written")


_REFERENCE = re.compile(r"^(?:[^:\s]+:)?([TREAMN#]\d+)$")
"""A reference in the second field of a relation, event, attribute, normalization or note line (``Arg1:T3``)."""


def _referring_to_written(other: Sequence[str], written: set[str], report: Report, why: str) -> list[str]:
    """The kept ``brat_other`` lines whose references all point to a line written (to no skipped entity).

    An event can refer to another event, so lines are dropped until none refers to a dropped one.
    """
    kept = list(other)
    while True:
        known = written | {line.split("\t", 1)[0] for line in kept}
        still = [line for line in kept if all(ref in known for ref in _references(line))]
        if len(still) == len(kept):
            break
        kept = still
    report.lose(f"relations, events, attributes and notes {why} (dropped)", len(other) - len(kept))
    return kept


def _references(line: str) -> list[str]:
    fields = line.split("\t")
    if len(fields) < 2:
        return []
    own = fields[0]
    refs = [m[1] for part in fields[1].split(" ") if (m := _REFERENCE.match(part))]
    return [r for r in refs if r != own]


def _group(entities: Sequence[Entity]) -> list[tuple[str | None, list[Entity]]]:
    """Entities by T id: fragments of one discontinuous entity share theirs; a T id used twice is renumbered."""
    groups: dict[str, list[Entity]] = {}
    loose: list[tuple[str | None, list[Entity]]] = []
    for e in entities:
        key = e.attr(ID)
        if key is not None and key not in groups:
            groups[key] = [e]
        elif key is not None and e.attr(FRAGMENT) and groups[key][0].attr(FRAGMENT):
            groups[key].append(e)
        else:
            loose.append((None, [e]))
    return [*groups.items(), *loose]


def _spans(entities: Sequence[Entity], n: int) -> list[Span]:
    if len(entities) > 1:
        return sorted((e.start, e.end) for e in entities)
    e = entities[0]
    recorded = e.attr(SPANS)
    if recorded:
        spans = [(int(a), int(b)) for a, b in (part.split(" ") for part in recorded.split(";"))]
        if spans[0][0] == e.start and spans[-1][1] == e.end and all(0 <= s < t <= n for s, t in spans):
            return spans
    return [(e.start, e.end)]


class _Ids:
    """Annotation ids: the recorded one when free, else the next unused number after every id in use."""

    def __init__(self, prefix: str, used: Iterable[str | None]) -> None:
        self.prefix = prefix
        self.used: set[str] = set()
        self.reserved = {u for u in used if u}
        numbers = [int(u[1:]) for u in self.reserved if u.startswith(prefix) and u[1:].isdigit()]
        self.next = max(numbers, default=0) + 1

    def take(self, wanted: str | None) -> str:
        if wanted and wanted not in self.used:
            self.used.add(wanted)
            return wanted
        while f"{self.prefix}{self.next}" in self.reserved | self.used:
            self.next += 1
        new = f"{self.prefix}{self.next}"
        self.used.add(new)
        return new
