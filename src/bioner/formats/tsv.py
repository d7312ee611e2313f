"""GenoVarDis tables: a text table and an annotation table, both tab-separated with a header.

The text table is ``pmid<TAB>filename<TAB>text``, one document per row (the id is the file name, the
PMID goes to ``doc.meta["pmid"]``). The annotation table is ``pmid<TAB>filename<TAB>mark<TAB>label<TAB>
offset1<TAB>offset2<TAB>span`` with character offsets into ``text`` (end exclusive); ``mark`` (the
annotation id, kept in the entity attribute ``tsv_mark``) is absent from submission files and then
optional. Annotation file names end in ``.ann`` where the text table's end in ``.txt``, so rows are
matched by file name without that extension. Cells are never quoted: a tab or line break inside a
text would shift the columns, so it is reported as an error when reading and replaced by a space
(offsets kept) when writing.

A folder stands for one pair of tables, so a config's ``data.train`` (with ``data.format = "tsv"``)
can name a GenoVarDis split: reading finds its text table and its annotation table by their
headers, whatever their names; writing makes ``text.tsv`` and ``annotations.tsv`` in the
submission format (no ``mark`` column), which is what the shared task's scorer reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from bioner.errors import BionerError, InputError, Report, excerpt
from bioner.formats.common import count_lost_extras, open_write, read_text
from bioner.types import Document, Entity, make_attrs

MARK = "tsv_mark"
TEXT_COLUMNS = ("pmid", "filename", "text")
ANNOTATION_COLUMNS = ("pmid", "filename", "mark", "label", "offset1", "offset2", "span")
_OPTIONAL = frozenset({"mark"})
_BREAKS = re.compile(r"[\t\r\n]")

Row = dict[str, str]


def read(
    path: str | Path, report: Report | None = None, *, annotations: str | Path | None = None
) -> Iterator[Document]:
    """Documents of a text table, with the entities of the annotation table when one is given."""
    report = report if report is not None else Report()
    if Path(path).is_dir() and annotations is None:
        path, annotations = _folder_tables(Path(path))
    texts = list(_rows(path, TEXT_COLUMNS, report))
    by_key: dict[str, tuple[int, Row]] = {}
    for number, row in texts:
        key = _key(row["filename"])
        if not row["filename"]:
            raise InputError(path, number, "empty filename")
        if key in by_key:
            raise InputError(path, number, f"filename {excerpt(row['filename'])} also on line {by_key[key][0]}")
        by_key[key] = (number, row)
    entities: dict[str, list[Entity]] = {key: [] for key in by_key}
    if annotations is not None:
        for number, row in _rows(annotations, ANNOTATION_COLUMNS, report):
            entity = _entity(annotations, number, row, by_key, report)
            if entity is not None:
                entities[_key(row["filename"])].append(entity)
    for _, row in texts:
        meta = {"pmid": row["pmid"]} if row["pmid"] else {}
        yield Document(row["filename"], row["text"], tuple(entities[_key(row["filename"])]), meta=meta)


def _folder_tables(folder: Path) -> tuple[Path, Path | None]:
    """The text table and the annotation table (if any) of a folder, told apart by their headers."""
    found: dict[str, list[Path]] = {"text": [], "label": []}
    for table in sorted(folder.glob("*.tsv")):
        header = read_text(table, Report()).split("\n", 1)[0].split("\t")
        for column in found:
            if column in header:
                found[column].append(table)
    if len(found["text"]) != 1 or len(found["label"]) > 1:
        raise BionerError(
            f"{folder}: a GenoVarDis folder holds one text table and at most one annotation table, found "
            f"{len(found['text'])} and {len(found['label'])}"
        )
    return found["text"][0], (found["label"][0] if found["label"] else None)


def _key(filename: str) -> str:
    """The file name without ``.txt``/``.ann``: how annotation rows find their text row."""
    return re.sub(r"\.(txt|ann)$", "", filename)


def _rows(path: str | Path, columns: Sequence[str], report: Report) -> Iterator[tuple[int, Row]]:
    lines = read_text(path, report).split("\n")
    header = lines[0].split("\t")  # cells are never quoted: a split, with no length limit (csv has one)
    missing = [c for c in columns if c not in header and c not in _OPTIONAL]
    if missing:
        raise InputError(path, 1, f"header lacks column {missing[0]!r} (expected {', '.join(columns)})")
    unknown = [c for c in header if c not in columns]
    if unknown or len(set(header)) != len(header):
        raise InputError(path, 1, f"unexpected or repeated column in the header: {excerpt(header)}")
    for number, cells in enumerate((line.split("\t") for line in lines[1:]), start=2):
        if not cells or cells == [""]:
            continue
        if len(cells) != len(header):
            raise InputError(
                path, number, f"row has {len(cells)} columns, expected {len(header)} (a tab or line break in a cell?)"
            )
        yield number, dict(zip(header, cells, strict=True))


def _entity(
    path: str | Path, number: int, row: Row, texts: dict[str, tuple[int, Row]], report: Report
) -> Entity | None:
    if row["label"] == "-" and row["offset1"] == "-" and row["offset2"] == "-":
        report.warn("placeholder rows ('-') for documents without annotations", 1)
        return None
    found = texts.get(_key(row["filename"]))
    if found is None:
        raise InputError(path, number, f"annotation for unknown filename {excerpt(row['filename'])}")
    text_row = found[1]
    if row["pmid"] != text_row["pmid"]:
        raise InputError(
            path, number, f"pmid {excerpt(row['pmid'])} differs from the text table's {excerpt(text_row['pmid'])}"
        )
    try:
        start, end = int(row["offset1"]), int(row["offset2"])
    except ValueError:
        raise InputError(
            path, number, f"offsets {excerpt(row['offset1'])}, {excerpt(row['offset2'])} are not integers"
        ) from None
    text = text_row["text"]
    if not 0 <= start < end <= len(text):
        raise InputError(path, number, f"offsets [{start}, {end}) out of range for a text of {len(text)} characters")
    if text[start:end] != row["span"]:
        raise InputError(
            path,
            number,
            f"span {excerpt(row['span'])} differs from the text {excerpt(text[start:end])} at [{start}, {end})",
        )
    if not row["label"]:
        raise InputError(path, number, "empty label")
    attrs = make_attrs({MARK: row["mark"]}) if row.get("mark") else ()
    return Entity(start, end, row["label"], row["span"], attrs=attrs)


def write(
    docs: Iterable[Document], path: str | Path, *, annotations: str | Path | None = None, mark: bool = True
) -> Report:
    """Write the text table, and the annotation table when ``annotations`` names a file.

    ``mark=False`` leaves out the ``mark`` column, as the GenoVarDis submission format does. A
    ``path`` that is a folder (or has no suffix) gets ``text.tsv`` and a submission ``annotations.tsv``.
    """
    folder = Path(path)
    if annotations is None and (folder.is_dir() or not folder.suffix):
        report = write(docs, folder / "text.tsv", annotations=folder / "annotations.tsv", mark=False)
        return report
    report = Report()
    text_rows: list[str] = ["\t".join(TEXT_COLUMNS)]
    columns = [c for c in ANNOTATION_COLUMNS if mark or c != "mark"]
    annotation_rows: list[str] = ["\t".join(columns)]
    written: set[str] = set()
    for doc in docs:
        if not doc.id or _BREAKS.search(doc.id):
            raise BionerError(f"document id {doc.id!r} cannot be a GenoVarDis filename (empty, tab or line break)")
        if _key(doc.id) in written:
            raise BionerError(f"document id {doc.id!r} occurs twice; a GenoVarDis table needs one row per document")
        written.add(_key(doc.id))
        pmid = str(doc.meta.get("pmid", ""))
        for key in doc.meta:
            report.lose(f"document metadata ({key})", key != "pmid" or _BREAKS.search(pmid) is not None)
        pmid = _BREAKS.sub(" ", pmid)
        report.lose("passages", len(doc.passages))
        report.lose("sentence spans", doc.sentences is not None)
        report.lose("entity ids", sum(e.id is not None for e in doc.entities))
        count_lost_extras(report, doc.entities, {MARK})
        if not mark:
            report.lose(
                "annotation marks (a table without the mark column)",
                sum(e.attr(MARK) is not None for e in doc.entities),
            )
        text = doc.text
        if _BREAKS.search(text):
            report.lose("documents with tabs or line breaks replaced by spaces (offsets kept)", 1)
            text = _BREAKS.sub(" ", text)
        text_rows.append(f"{pmid}\t{doc.id}\t{text}")
        if annotations is None:
            report.lose("entities (no annotation table given)", len(doc.entities))
            continue
        marks = _marks(doc.entities)
        filename = re.sub(r"\.txt$", ".ann", doc.id)
        for e, m in zip(doc.entities, marks, strict=True):
            if not e.label or _BREAKS.search(e.label):
                raise BionerError(f"document {doc.id!r}: label {e.label!r} cannot be written in a table cell")
            cells = {"pmid": pmid, "filename": filename, "mark": m, "label": e.label}
            cells.update(offset1=str(e.start), offset2=str(e.end), span=text[e.start : e.end])
            annotation_rows.append("\t".join(cells[c] for c in columns))
    with open_write(path) as out:
        out.write("\n".join(text_rows) + "\n")
    if annotations is not None:
        with open_write(annotations) as out:
            out.write("\n".join(annotation_rows) + "\n")
    return report


def _marks(entities: Sequence[Entity]) -> list[str]:
    """Each entity's recorded mark when unique in the document, else the next free ``T<n>``."""
    recorded = [e.attr(MARK) or "" for e in entities]
    used: set[str] = set()
    numbers = [int(m[1:]) for m in recorded if re.fullmatch(r"T\d+", m)]
    n = max(numbers, default=0)
    out: list[str] = []
    for m in recorded:
        if not m or m in used or _BREAKS.search(m):
            n += 1
            while f"T{n}" in recorded or f"T{n}" in used:
                n += 1
            m = f"T{n}"
        used.add(m)
        out.append(m)
    return out
