"""BioC, as XML (``flavour="xml"``) or JSON (``flavour="json"``): a collection of documents made of passages.

Each passage has an absolute ``offset``, a ``text`` and infons (``type`` becomes ``Passage.kind``, the
others its attrs); the document text places every passage at its offset, gaps filled with spaces.
An annotation becomes an entity: label from infon ``type``, id from infon ``identifier`` (or
``Identifier``, tmVar's infon named after the type, ``NCBI Gene``, ``MESH``), its BioC id and other infons
kept in attrs (``bioc_id``, ``bioc_id_key``, ``infon:<key>``). Relations, document and collection infons
go to ``doc.meta`` (``bioc_relations``, ``bioc_infons``, ``bioc_collection``) and are written back.

XML is parsed with the standard library's expat, which gives the line of every element for error
messages; entity declarations are refused, so no document can expand into a billion laughs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from bioner.errors import BionerError, InputError, Report
from bioner.formats.common import count_lost_extras, open_write, read_text
from bioner.types import Document, Entity, Passage, make_attrs

FLAVOURS = ("xml", "json")
MULTI = ("skip", "cover")
BIOC_ID, ID_KEY, LOCATIONS, INFON = "bioc_id", "bioc_id_key", "bioc_locations", "infon:"
_ID_KEYS = ("identifier", "Identifier", "NCBI Gene", "MESH", "MeSH")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

Record = dict[str, Any]
"""A BioC node in the shape of BioC JSON, with ``_line`` (its XML line) where known."""


def read(
    path: str | Path, report: Report | None = None, *, flavour: str = "xml", multi: str = "skip"
) -> Iterator[Document]:
    """Documents of a BioC collection; ``multi="cover"`` reads a multi-location annotation as its covering span."""
    if flavour not in FLAVOURS:
        raise BionerError(f"unknown BioC flavour {flavour!r}; expected one of {', '.join(FLAVOURS)}")
    if multi not in MULTI:
        raise BionerError(f"unknown multi {multi!r}; expected one of {', '.join(MULTI)}")
    report = report if report is not None else Report()
    text = read_text(path, report)
    collection = _parse_xml(path, text) if flavour == "xml" else _parse_json(path, text)
    shared = {k: collection[k] for k in ("source", "date", "key") if collection.get(k)}
    if collection.get("infons"):
        shared["infons"] = collection["infons"]
    for record in collection.get("documents") or []:
        yield _document(path, record, shared, report, multi)


# --- parsing: both flavours give the same records ---------------------------------------------------


def _parse_json(path: str | Path, text: str) -> Record:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(path, err.lineno, f"invalid JSON: {err.msg} (column {err.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("documents", []), list):
        raise InputError(path, None, "expected a BioC JSON collection: an object with a 'documents' list")
    return data


def _parse_xml(path: str | Path, text: str) -> Record:
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(encoding="utf-8")
    lines: dict[ElementTree.Element, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    def refuse(*_: Any) -> None:
        raise InputError(path, parser.CurrentLineNumber, "XML entity declarations are not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(text, True)
    except expat.ExpatError as err:
        raise InputError(path, err.lineno, f"invalid XML: {expat.errors.messages[err.code]}") from None
    root = builder.close()
    if root.tag != "collection":
        raise InputError(path, lines.get(root), f"root element <{root.tag}>, expected <collection>")
    return _XmlReader(path, lines).collection(root)


class _XmlReader:
    """Turns the XML tree into JSON-shaped records, keeping each element's line."""

    def __init__(self, path: str | Path, lines: Mapping[ElementTree.Element, int]) -> None:
        self.path = path
        self.lines = lines

    def collection(self, el: ElementTree.Element) -> Record:
        record: Record = {k: el.findtext(k) or "" for k in ("source", "date", "key")}
        record["infons"] = self.infons(el)
        record["documents"] = [self.document(d) for d in el.findall("document")]
        return record

    def document(self, el: ElementTree.Element) -> Record:
        return {
            "id": el.findtext("id"),
            "infons": self.infons(el),
            "passages": [self.passage(p) for p in el.findall("passage")],
            "annotations": [self.annotation(a) for a in el.findall("annotation")],
            "relations": [self.relation(r) for r in el.findall("relation")],
            "_line": self.lines.get(el),
        }

    def passage(self, el: ElementTree.Element) -> Record:
        return {
            "offset": el.findtext("offset"),
            "infons": self.infons(el),
            "text": el.findtext("text"),
            "sentences": [{"_line": self.lines.get(s)} for s in el.findall("sentence")],
            "annotations": [self.annotation(a) for a in el.findall("annotation")],
            "relations": [self.relation(r) for r in el.findall("relation")],
            "_line": self.lines.get(el),
        }

    def annotation(self, el: ElementTree.Element) -> Record:
        return {
            "id": el.get("id"),
            "infons": self.infons(el),
            "text": el.findtext("text"),
            "locations": [{"offset": loc.get("offset"), "length": loc.get("length")} for loc in el.findall("location")],
            "_line": self.lines.get(el),
        }

    def relation(self, el: ElementTree.Element) -> Record:
        return {
            "id": el.get("id"),
            "infons": self.infons(el),
            "nodes": [{"refid": n.get("refid", ""), "role": n.get("role", "")} for n in el.findall("node")],
        }

    def infons(self, el: ElementTree.Element) -> dict[str, str]:
        out: dict[str, str] = {}
        for infon in el.findall("infon"):
            key = infon.get("key")
            if key is None or key in out:
                problem = "an infon without a key" if key is None else f"infon {key!r} given twice"
                raise InputError(self.path, self.lines.get(infon), problem)
            out[key] = infon.text or ""
        return out


# --- records to documents ----------------------------------------------------------------------------


def _document(path: str | Path, record: Any, shared: Record, report: Report, multi: str) -> Document:
    if not isinstance(record, dict):
        raise InputError(path, None, "a document must be an object")
    line = record.get("_line")
    doc_id = record.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise InputError(path, line, "document without an id")
    passages: list[Passage] = []
    parts: list[str] = []
    length = 0
    annotations: list[Record] = list(record.get("annotations") or [])
    relations: list[Record] = [_relation(r) for r in record.get("relations") or []]
    for index, p in enumerate(record.get("passages") or []):
        where = p.get("_line", line)
        offset = _int(path, where, p.get("offset"), f"document {doc_id}: passage offset")
        text = p.get("text")
        if text is None:
            problem = "holds sentences instead of text (not supported)" if p.get("sentences") else "has no text"
            raise InputError(path, where, f"document {doc_id}: passage at offset {offset} {problem}")
        if offset < length:
            raise InputError(path, where, f"document {doc_id}: passage at offset {offset} overlaps the one before it")
        parts.append(" " * (offset - length) + text)
        length = offset + len(text)
        infons = {str(k): str(v) for k, v in (p.get("infons") or {}).items()}
        kind = infons.pop("type", "")
        passages.append(Passage(offset, text, kind, make_attrs(infons)))
        annotations.extend(p.get("annotations") or [])
        relations.extend({**_relation(r), "passage": index} for r in p.get("relations") or [])
    full = "".join(parts)
    entities = [e for a in annotations if (e := _entity(path, doc_id, a, full, report, multi)) is not None]
    meta: dict[str, Any] = {}
    if record.get("infons"):
        meta["bioc_infons"] = {str(k): str(v) for k, v in record["infons"].items()}
    if relations:
        meta["bioc_relations"] = relations
    if shared:
        meta["bioc_collection"] = shared
    return Document(doc_id, full, tuple(entities), tuple(passages), meta=meta)


def _relation(r: Record) -> Record:
    return {
        "id": str(r.get("id") or ""),
        "infons": {str(k): str(v) for k, v in (r.get("infons") or {}).items()},
        "nodes": [{"refid": str(n.get("refid", "")), "role": str(n.get("role", ""))} for n in r.get("nodes") or []],
    }


def _entity(path: str | Path, doc_id: str, a: Record, text: str, report: Report, multi: str) -> Entity | None:
    line = a.get("_line")
    infons = {str(k): str(v) for k, v in (a.get("infons") or {}).items()}
    label = infons.pop("type", None)
    if not label:
        raise InputError(path, line, f"document {doc_id}: annotation {a.get('id')} has no 'type' infon")
    spans = []
    for loc in a.get("locations") or []:
        start = _int(path, line, loc.get("offset"), f"document {doc_id}: location offset")
        spans.append((start, start + _int(path, line, loc.get("length"), f"document {doc_id}: location length")))
    if not spans:
        report.lose("annotations without a location skipped", 1)
        return None
    attrs: dict[str, str] = {}
    if len(spans) > 1:
        if multi == "skip":
            report.lose("multi-location annotations skipped", 1)
            return None
        report.warn("multi-location annotations read as their covering span", 1)
        attrs[LOCATIONS] = ";".join(f"{s}:{e - s}" for s, e in spans)
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    for s, e in spans:
        if not 0 <= s < e <= len(text):
            raise InputError(path, line, f"document {doc_id}: location [{s}, {e}) out of range (text of {len(text)})")
    expected = " ".join(text[s:e] for s, e in sorted(spans))
    if a.get("text") is not None and a["text"] != expected:
        raise InputError(
            path, line, f"document {doc_id}: annotation text {a['text']!r} differs from the document text {expected!r}"
        )
    key = next((k for k in (*_ID_KEYS, label) if k in infons), None)
    entity_id = infons.pop(key) if key is not None else None
    if key not in {None, "identifier"}:
        attrs[ID_KEY] = str(key)
    if a.get("id") is not None:
        attrs[BIOC_ID] = str(a["id"])
    attrs.update({INFON + k: v for k, v in infons.items()})
    return Entity(start, end, label, text[start:end], id=entity_id, attrs=make_attrs(attrs))


def _int(path: str | Path, line: int | None, value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(path, line, f"{what} {value!r} is not an integer") from None
    if number < 0:
        raise InputError(path, line, f"{what} {number} is negative")
    return number


# --- writing -----------------------------------------------------------------------------------------


def write(docs: Iterable[Document], path: str | Path, *, flavour: str = "xml") -> Report:
    """Write a BioC collection; the collection fields come from the first document's ``bioc_collection``."""
    if flavour not in FLAVOURS:
        raise BionerError(f"unknown BioC flavour {flavour!r}; expected one of {', '.join(FLAVOURS)}")
    report = Report()
    documents: list[Record] = []
    shared: Record | None = None
    for doc in docs:
        collection = doc.meta.get("bioc_collection", {}) if _meta_ok("bioc_collection", doc.meta) else {}
        if shared is None:
            shared = collection
        report.lose("document metadata (bioc_collection differs from the first document's)", collection != shared)
        documents.append(_document_record(doc, report, flavour))
    shared = shared or {}
    collection_record: Record = {
        "source": str(shared.get("source", "")),
        "date": str(shared.get("date", "")),
        "key": str(shared.get("key", "")),
        "infons": {str(k): str(v) for k, v in shared.get("infons", {}).items()},
        "documents": documents,
    }
    with open_write(path) as out:
        if flavour == "json":
            json.dump(collection_record, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            out.write(_xml(collection_record))
    return report


def _document_record(doc: Document, report: Report, flavour: str) -> Record:
    for key in doc.meta:
        report.lose(f"document metadata ({key})", not _meta_ok(key, doc.meta))
    report.lose("sentence spans", doc.sentences is not None)
    held = {k for e in doc.entities for k, _ in e.attrs if k.startswith(INFON)} | {BIOC_ID, ID_KEY, LOCATIONS}
    count_lost_extras(report, doc.entities, held)
    text = doc.text
    if flavour == "xml" and _XML_INVALID.search(text):
        report.lose("documents with characters XML cannot hold (replaced by spaces)", 1)
        text = _XML_INVALID.sub(" ", text)
    passages = _passages(doc, report)
    records: list[Record] = [
        {
            "offset": p.offset,
            "infons": {**({"type": p.kind} if p.kind else {}), **dict(p.attrs)},
            "text": text[p.offset : p.end],
            "sentences": [],
            "annotations": [],
            "relations": [],
        }
        for p in passages
    ]
    relations: list[Record] = []
    for r in doc.meta.get("bioc_relations", []) if _meta_ok("bioc_relations", doc.meta) else []:
        index = r.get("passage")
        (records[index]["relations"] if isinstance(index, int) and index < len(records) else relations).append(
            _relation(r)
        )
    ids = _AnnotationIds(doc.entities)
    for e in doc.entities:
        index = max((i for i, p in enumerate(passages) if p.offset <= e.start), default=0)
        records[index]["annotations"].append(_annotation_record(e, ids.take(e), text))
    infons = doc.meta.get("bioc_infons", {}) if _meta_ok("bioc_infons", doc.meta) else {}
    record: Record = {"id": doc.id, "infons": {str(k): str(v) for k, v in infons.items()}, "passages": records}
    record["relations"] = relations
    return record


def _meta_ok(key: str, meta: Mapping[str, Any]) -> bool:
    """Whether a metadata entry is one BioC holds, in the shape the reader gives it."""
    value = meta.get(key)
    if key == "bioc_relations":
        return isinstance(value, list) and all(
            isinstance(r, dict)
            and isinstance(r.get("infons", {}), dict)
            and isinstance(r.get("nodes", []), list)
            and all(isinstance(n, dict) for n in r.get("nodes", []))
            for r in value
        )
    if key == "bioc_collection":
        return isinstance(value, dict) and isinstance(value.get("infons", {}), dict)
    return key == "bioc_infons" and isinstance(value, dict)


def _passages(doc: Document, report: Report) -> list[Passage]:
    """The passages to write: the document's own when they are in order and hold all its text."""
    rebuilt = ""
    for p in doc.passages:
        if p.offset < len(rebuilt):
            report.lose("documents with overlapping passages (written as one passage)", 1)
            return [Passage(0, doc.text)]
        rebuilt += " " * (p.offset - len(rebuilt)) + p.text
    if not doc.passages:
        return [Passage(0, doc.text)]
    if rebuilt != doc.text:
        report.lose("documents with text outside their passages (not kept)", 1)
    return list(doc.passages)


def _annotation_record(e: Entity, annotation_id: str, text: str) -> Record:
    infons = {"type": e.label}
    if e.id is not None:
        infons[e.attr(ID_KEY) or "identifier"] = e.id
    infons.update({k.removeprefix(INFON): v for k, v in e.attrs if k.startswith(INFON)})
    recorded = e.attr(LOCATIONS)
    spans = [(e.start, e.end - e.start)]
    if recorded:
        spans = [(int(o), int(n)) for o, n in (part.split(":") for part in recorded.split(";"))]
    mention = " ".join(text[o : o + n] for o, n in sorted(spans))
    return {
        "id": annotation_id,
        "infons": infons,
        "text": mention,
        "locations": [{"offset": o, "length": n} for o, n in spans],
    }


class _AnnotationIds:
    """Each entity's recorded BioC id when it is unique in the document, else the next free number."""

    def __init__(self, entities: Sequence[Entity]) -> None:
        self.used: set[str] = set()
        recorded = [e.attr(BIOC_ID) for e in entities]
        self.taken = {r for r in recorded if r is not None}
        self.next = 0

    def take(self, e: Entity) -> str:
        wanted = e.attr(BIOC_ID)
        if wanted is not None and wanted not in self.used:
            self.used.add(wanted)
            return wanted
        while str(self.next) in self.taken | self.used:
            self.next += 1
        self.used.add(str(self.next))
        return str(self.next)


def _xml(collection: Record) -> str:
    root = ElementTree.Element("collection")
    for key in ("source", "date", "key"):
        ElementTree.SubElement(root, key).text = collection[key]
    _infons(root, collection["infons"])
    for d in collection["documents"]:
        doc = ElementTree.SubElement(root, "document")
        ElementTree.SubElement(doc, "id").text = d["id"]
        _infons(doc, d["infons"])
        for p in d["passages"]:
            passage = ElementTree.SubElement(doc, "passage")
            _infons(passage, p["infons"])
            ElementTree.SubElement(passage, "offset").text = str(p["offset"])
            ElementTree.SubElement(passage, "text").text = p["text"]
            for a in p["annotations"]:
                _xml_annotation(passage, a)
            for r in p["relations"]:
                _xml_relation(passage, r)
        for r in d["relations"]:
            _xml_relation(doc, r)
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode").replace("\r", "&#13;")
    return f"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE collection SYSTEM \"BioC.dtd\">\n{body}\n"


def _infons(parent: ElementTree.Element, infons: Mapping[str, str]) -> None:
    for key, value in infons.items():
        ElementTree.SubElement(parent, "infon", key=key).text = value


def _xml_annotation(parent: ElementTree.Element, a: Record) -> None:
    el = ElementTree.SubElement(parent, "annotation", id=a["id"])
    _infons(el, a["infons"])
    for loc in a["locations"]:
        ElementTree.SubElement(el, "location", offset=str(loc["offset"]), length=str(loc["length"]))
    ElementTree.SubElement(el, "text").text = a["text"]


def _xml_relation(parent: ElementTree.Element, r: Record) -> None:
    el = ElementTree.SubElement(parent, "relation", id=r["id"])
    _infons(el, r["infons"])
    for node in r["nodes"]:
        ElementTree.SubElement(el, "node", refid=node["refid"], role=node["role"])
