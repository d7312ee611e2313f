"""PubTator: ``PMID|t|title``, ``PMID|a|abstract``, then one tab-separated line per mention or relation.

Mention lines are ``PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>id[<TAB>more...]]`` with offsets into
``title + " " + abstract``; columns after the id (BC5CDR's individual mentions of a composite one) are
kept in the entity attribute ``pubtator_extra``, tab-joined. Any other line whose second column is not
an offset is a relation (``PMID<TAB>CID<TAB>id1<TAB>id2``, BioRED's ``...<TAB>Novel``); its columns after
the PMID are kept verbatim in ``doc.meta["relations"]`` and written back. A blank line ends a document. Mention lines of
the unofficial FBK variant (``PMID<TAB>T1<TAB>type<TAB>start<TAB>end<TAB>text[<TAB>identifier]``, which bconv reads and
writes) are read too, counted, with their annotation id in the entity attribute ``pubtator_fbk_id``.

A PMID that occurs twice in one file (NCBI-disease train has one) gives two documents with the same id
and a warning: both are kept because their annotations may differ, and dropping either would be silent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bioner.errors import BionerError, InputError, Report, excerpt
from bioner.formats.common import count_lost_extras, open_write, read_text
from bioner.types import Document, Entity, Passage, make_attrs

EXTRA = "pubtator_extra"
"""Entity attribute holding the columns after the id, tab-joined."""
FBK_ID = "pubtator_fbk_id"
"""Entity attribute holding the annotation id of a mention line in bconv's FBK variant."""

_TEXT_LINE = re.compile(r"^(?P<id>[^\t|]+)\|(?P<kind>[ta])\|(?P<text>.*)$")
_OFFSET = re.compile(r"^\d+$")
_RELATION_TYPE = re.compile(r"^[A-Za-z_][\w-]*$")
_BREAKS = re.compile(r"[\t\r\n]")


class _Builder:
    """The lines of one document, collected until its blank line."""

    def __init__(self, doc_id: str, title: str, line: int) -> None:
        self.id = doc_id
        self.title = title
        self.abstract: str | None = None
        self.line = line
        self.mentions: list[tuple[int, list[str]]] = []
        self.relations: list[list[str]] = []
        self.fbk_ids: dict[int, str] = {}
        """Mention index -> annotation id, for mention lines of the FBK variant."""

    @property
    def text(self) -> str:
        return f"{self.title} {self.abstract}" if self.abstract else self.title


def read(
    path: str | Path,
    report: Report | None = None,
    *,
    realign: bool = False,
    realign_window: int = 10,
    skip_bad_lines: bool = False,
) -> Iterator[Document]:
    """Documents of a PubTator file.

    A mention whose text differs from the document text at its offsets is an error, unless
    ``realign``: then the mention text (stripped of surrounding whitespace) is looked for within
    ``realign_window`` characters, nearest first, and every fix is counted. ``skip_bad_lines``
    skips (and counts) malformed lines instead of stopping at the first one.
    """
    report = report if report is not None else Report()
    lines = read_text(path, report).split("\n")
    current: _Builder | None = None
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if current is not None:
                yield _finish(current, path, report, seen, realign, realign_window)
                current = None
            continue
        match = _TEXT_LINE.match(line)
        try:
            if match and match["kind"] == "t":
                if current is not None:
                    yield _finish(current, path, report, seen, realign, realign_window)
                current = _Builder(match["id"], match["text"], number)
            elif match:
                _add_abstract(current, match["id"], match["text"], path, number)
            else:
                _add_line(current, line, path, number)
        except InputError:
            if not skip_bad_lines or match:
                raise
            report.warn("malformed lines skipped", 1)
    if current is not None:
        yield _finish(current, path, report, seen, realign, realign_window)


def _add_abstract(current: _Builder | None, doc_id: str, text: str, path: str | Path, number: int) -> None:
    if current is None or current.id != doc_id:
        raise InputError(path, number, f"abstract line of document {doc_id} without its title line before it")
    if current.abstract is not None or current.mentions or current.relations:
        raise InputError(path, number, f"abstract line of document {doc_id} after its abstract or mentions")
    current.abstract = text


def _add_line(current: _Builder | None, line: str, path: str | Path, number: int) -> None:
    columns = line.split("\t")
    if current is None:
        raise InputError(path, number, "annotation line before any title line (expected 'PMID|t|title')")
    if columns[0] != current.id:
        raise InputError(path, number, f"line of document {excerpt(columns[0])} inside document {excerpt(current.id)}")
    if len(columns) >= 2 and _OFFSET.match(columns[1]):
        if len(columns) < 5:
            raise InputError(
                path, number, f"mention line has {len(columns)} columns, expected PMID, start, end, text, type[, id]"
            )
        if not _OFFSET.match(columns[2]):
            raise InputError(path, number, f"end offset {excerpt(columns[2])} is not a non-negative integer")
        current.mentions.append((number, columns))
    elif len(columns) >= 6 and _OFFSET.match(columns[3]) and _OFFSET.match(columns[4]):
        # bconv's "FBK" variant: PMID, annotation id, type, start, end, text[, identifier...]
        fbk_id, label, start, end, text = columns[1:6]
        current.mentions.append((number, [columns[0], start, end, text, label, *columns[6:]]))
        current.fbk_ids[len(current.mentions) - 1] = fbk_id
    elif len(columns) >= 3 and _RELATION_TYPE.match(columns[1]):
        current.relations.append(columns[1:])
    else:
        raise InputError(
            path,
            number,
            "malformed line: neither a mention (PMID, start, end, text, type[, id]) nor a relation (PMID, type, id...)",
        )


def _finish(
    builder: _Builder, path: str | Path, report: Report, seen: set[str], realign: bool, window: int
) -> Document:
    text = builder.text
    entities = [_entity(text, columns, path, number, report, realign, window) for number, columns in builder.mentions]
    if builder.fbk_ids:
        report.warn("FBK-variant mention lines (PMID, id, type, start, end, text) read", len(builder.fbk_ids))
        entities = [
            replace(e, attrs=make_attrs(dict(e.attrs), **{FBK_ID: builder.fbk_ids[i]})) if i in builder.fbk_ids else e
            for i, e in enumerate(entities)
        ]
    passages = [Passage(0, builder.title, "title")]
    if builder.abstract:
        passages.append(Passage(len(builder.title) + 1, builder.abstract, "abstract"))
    if builder.id in seen:
        report.warn("duplicate document ids (both documents kept)", 1)
    seen.add(builder.id)
    meta: dict[str, Any] = {"relations": builder.relations} if builder.relations else {}
    return Document(builder.id, text, tuple(entities), tuple(passages), meta=meta)


def _entity(
    text: str, columns: Sequence[str], path: str | Path, number: int, report: Report, realign: bool, window: int
) -> Entity:
    start, end, mention, label = int(columns[1]), int(columns[2]), columns[3], columns[4]
    if not start < end or (end > len(text) and not realign):
        raise InputError(path, number, f"offsets [{start}, {end}) out of range for a text of {len(text)} characters")
    if text[start:end] != mention:
        if not realign:
            raise InputError(
                path,
                number,
                f"mention text {excerpt(mention)} differs from the document text {excerpt(text[start:end])}"
                f" at [{start}, {end})"
                " (the realign option, --realign, looks for it nearby)",
            )
        start, end = _realign(text, start, mention, window, report, path, number)
    extra = columns[6:]
    return Entity(
        start,
        end,
        label,
        text[start:end],
        id=columns[5] if len(columns) > 5 else None,
        attrs=make_attrs({EXTRA: "\t".join(extra)}) if extra else (),
    )


def _realign(
    text: str, start: int, mention: str, window: int, report: Report, path: str | Path, number: int
) -> tuple[int, int]:
    """The nearest place within ``window`` characters where the (stripped) mention text occurs."""
    stripped = mention.strip()
    if stripped:
        anchor = start + len(mention) - len(mention.lstrip())
        for delta in sorted(range(-window, window + 1), key=lambda d: (abs(d), d)):
            s = anchor + delta
            if s >= 0 and text[s : s + len(stripped)] == stripped:
                report.warn("mention text with surrounding whitespace (stripped)", stripped != mention)
                report.warn("mentions realigned to their text", delta != 0)
                return s, s + len(stripped)
    raise InputError(
        path, number, f"mention text {excerpt(mention)} not found within {window} characters of offset {start}"
    )


def write(docs: Iterable[Document], path: str | Path) -> Report:
    """Write documents; what PubTator cannot hold (scores, other passages, metadata) is counted."""
    report = Report()
    with open_write(path) as out:
        for doc in docs:
            out.write(_document_lines(doc, report))
    return report


def _document_lines(doc: Document, report: Report) -> str:
    if not doc.id or _BREAKS.search(doc.id) or "|" in doc.id:
        raise BionerError(
            f"document id {doc.id!r} cannot be written in PubTator (empty, or holds '|', a tab or a line break)"
        )
    text = doc.text
    if _BREAKS.search(text):
        report.lose("documents with tabs or line breaks replaced by spaces (offsets kept)", 1)
        text = _BREAKS.sub(" ", text)
    title_end = _title_end(doc)
    expected = [Passage(0, doc.text[:title_end], "title")]
    if title_end < len(doc.text):
        expected.append(Passage(title_end + 1, doc.text[title_end + 1 :], "abstract"))
    if doc.passages and list(doc.passages) != expected:
        report.lose("documents whose passages are not a title and an abstract", 1)
    lines = [f"{doc.id}|t|{text[:title_end]}", f"{doc.id}|a|{text[title_end + 1 :]}"]
    lines.extend("\t".join(_mention_columns(doc.id, e, text, report)) for e in doc.entities)
    count_lost_extras(report, doc.entities, {EXTRA})
    for key, value in doc.meta.items():
        if key == "relations" and _is_relation_list(value):
            lines.extend("\t".join([doc.id, *(_cell(c, report) for c in relation)]) for relation in value)
        else:
            report.lose(f"document metadata ({key})", 1)
    return "\n".join(lines) + "\n\n"


def _title_end(doc: Document) -> int:
    """Where the title ends: ``title + " " + abstract`` must be the text, else the whole text is the title."""
    if doc.passages and doc.passages[0].offset == 0:
        end = doc.passages[0].end
        if doc.text[end : end + 1] == " " and end + 1 < len(doc.text):
            return end
    return len(doc.text)


def _is_relation_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(
        isinstance(r, list | tuple) and all(isinstance(c, str) for c in r) for r in value
    )


def _mention_columns(doc_id: str, e: Entity, text: str, report: Report) -> list[str]:
    columns = [doc_id, str(e.start), str(e.end), text[e.start : e.end], _cell(e.label, report)]
    extra = e.attr(EXTRA)
    if e.id is not None or extra is not None:
        columns.append(_cell(e.id or "", report))
    if extra is not None:
        columns.extend(_cell(c, report) for c in extra.split("\t"))
    return columns


def _cell(value: str, report: Report) -> str:
    if _BREAKS.search(value):
        report.lose("tabs or line breaks in labels, ids or relations replaced by spaces", 1)
        return _BREAKS.sub(" ", value)
    return value
