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

from bioner.errors import EXCERPT, BionerError, InputError, Report, excerpt
from bioner.formats.common import count_lost_extras, fragments_in_order, open_write, read_text
from bioner.types import Document, Entity, Passage, Span, make_attrs

FLAVOURS = ("xml", "json")
MULTI = ("skip", "cover")
BIOC_ID, ID_KEY, LOCATIONS, INFON = "bioc_id", "bioc_id_key", "bioc_locations", "infon:"
_ID_KEYS = ("identifier", "Identifier", "NCBI Gene", "MESH", "MeSH")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

MAX_TEXT = 10**8
"""Characters of the longest document read: a passage offset beyond it is an error, not a padded text."""
PUBTATOR3 = "PubTator3"
"""The key under which PubTator3's API answers a list of BioC JSON documents."""
_DOCUMENT_KEYS = frozenset({"id", "infons", "passages", "annotations", "relations", "_line"})

Record = dict[str, Any]
"""A BioC node in the shape of BioC JSON, with ``_line`` (its XML line) where known."""
Infons = dict[str, str]


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
    collection = _parse_xml(path, text, report) if flavour == "xml" else _parse_json(path, text)
    shared: Record = {k: str(collection[k]) for k in ("source", "date", "key") if collection.get(k)}
    infons = _read_infons(path, None, collection.get("infons"), "collection infons", report)
    if infons:
        shared["infons"] = infons
    if not collection["documents"]:
        raise InputError(path, None, "the BioC collection holds no documents")
    for record in collection["documents"]:
        yield _document(path, record, shared, report, multi)


# --- parsing: both flavours give the same records ---------------------------------------------------


def _parse_json(path: str | Path, text: str) -> Record:
    """The collection record; PubTator3's API answer ``{"PubTator3": [document, ...]}`` is one too."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(path, err.lineno, f"invalid JSON: {err.msg} (column {err.colno})") from None
    except RecursionError:
        raise InputError(path, None, "JSON nested too deeply") from None
    if isinstance(data, dict) and "documents" not in data and isinstance(data.get(PUBTATOR3), list):
        data = {"documents": data[PUBTATOR3]}
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise InputError(
            path, None, f"expected a BioC JSON collection: an object with a 'documents' list (or {PUBTATOR3}'s)"
        )
    return data


def _parse_xml(path: str | Path, text: str, report: Report) -> Record:
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
    except RecursionError:
        raise InputError(path, parser.CurrentLineNumber, "XML nested too deeply") from None
    root = builder.close()
    if root.tag != "collection":
        raise InputError(path, lines.get(root), f"root element <{root.tag}>, expected <collection>")
    return _XmlReader(path, lines, report).collection(root)


class _XmlReader:
    """Turns the XML tree into JSON-shaped records, keeping each element's line."""

    def __init__(self, path: str | Path, lines: Mapping[ElementTree.Element, int], report: Report) -> None:
        self.path = path
        self.lines = lines
        self.report = report

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
            "text": self.text(el),
            "sentences": [self.passage(s) for s in el.findall("sentence")],
            "annotations": [self.annotation(a) for a in el.findall("annotation")],
            "relations": [self.relation(r) for r in el.findall("relation")],
            "_line": self.lines.get(el),
        }

    def annotation(self, el: ElementTree.Element) -> Record:
        return {
            "id": el.get("id"),
            "infons": self.infons(el),
            "text": self.text(el),
            "locations": [{"offset": loc.get("offset"), "length": loc.get("length")} for loc in el.findall("location")],
            "_line": self.lines.get(el),
        }

    def relation(self, el: ElementTree.Element) -> Record:
        return {
            "id": el.get("id"),
            "infons": self.infons(el),
            "nodes": [{"refid": n.get("refid", ""), "role": n.get("role", "")} for n in el.findall("node")],
        }

    def text(self, el: ElementTree.Element) -> str | None:
        """The ``<text>`` child's characters, those inside markup (``<i>liver</i>``) included."""
        child = el.find("text")
        if child is None:
            return None
        if len(child):
            self.report.warn("markup inside <text> elements (tags removed, their text kept)", 1)
        return "".join(child.itertext())

    def infons(self, el: ElementTree.Element) -> dict[str, str]:
        out: dict[str, str] = {}
        for infon in el.findall("infon"):
            key = infon.get("key")
            if key is None or key in out:
                problem = "an infon without a key" if key is None else f"infon {excerpt(key)} given twice"
                raise InputError(self.path, self.lines.get(infon), problem)
            out[key] = "".join(infon.itertext())
        return out


# --- records to documents ----------------------------------------------------------------------------


class _Where:
    """The file, line and document that an error message names."""

    def __init__(self, path: str | Path, line: int | None, doc_id: str | None = None) -> None:
        self.path = path
        self.line = line
        self.doc = doc_id

    def at(self, line: Any) -> _Where:
        return _Where(self.path, line if isinstance(line, int) else self.line, self.doc)

    def error(self, message: str) -> InputError:
        prefix = f"document {self.doc}: " if self.doc is not None else ""
        return InputError(self.path, self.line, prefix + message)

    def obj(self, value: Any, what: str) -> Record:
        if not isinstance(value, dict):
            raise self.error(f"{what} must be an object, got {_kind(value)}")
        return value

    def items(self, record: Record, key: str, what: str) -> list[Any]:
        value = record.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{what} must be a list, got {_kind(value)}")
        return value

    def text(self, value: Any, what: str) -> str:
        if not isinstance(value, str):
            raise self.error(f"{what} must be a string, got {_kind(value)}")
        return value

    def int(self, value: Any, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.error(f"{what} {excerpt(value)} is not an integer")
        try:
            number = int(value)
        except ValueError:
            raise self.error(f"{what} {excerpt(value)} is not an integer") from None
        if number < 0:
            raise self.error(f"{what} {number} is negative")
        if number > MAX_TEXT:
            raise self.error(f"{what} {number} is beyond the longest document read ({MAX_TEXT} characters)")
        return number


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _read_infons(
    path: str | Path, line: Any, value: Any, what: str, report: Report, doc_id: str | None = None
) -> Infons:
    """Infons as strings; a non-string value (PubTator3 gives numbers, booleans, lists) is kept as its JSON."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Where(path, line if isinstance(line, int) else None, doc_id).error(
            f"{what} must be an object, got {_kind(value)}"
        )
    out: Infons = {}
    for key, v in value.items():
        if not isinstance(v, str):
            report.warn("infon values that are not strings (read as their JSON text)", 1)
            v = json.dumps(v, ensure_ascii=False)
        out[str(key)] = v
    return out


def _document(path: str | Path, raw: Any, shared: Record, report: Report, multi: str) -> Document:
    where = _Where(path, None)
    record = where.obj(raw, "a document")
    where = where.at(record.get("_line"))
    doc_id = record.get("id")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        report.warn("document ids that are numbers (read as text)", 1)
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id:
        raise where.error(f"document without an id (got {excerpt(doc_id)})")
    where = _Where(path, where.line, doc_id)
    extra = sorted(set(record) - _DOCUMENT_KEYS)
    report.warn("document fields BioC does not define (not read)", len(extra))
    passages: list[Passage] = []
    parts: list[str] = []
    length = 0
    sentences: list[Span] = []
    annotations: list[tuple[_Where, Any]] = [(where, a) for a in where.items(record, "annotations", "annotations")]
    relations: list[Record] = [_relation(where, r, report) for r in where.items(record, "relations", "relations")]
    for index, raw_passage in enumerate(where.items(record, "passages", "passages")):
        p = where.obj(raw_passage, f"passage {index + 1}")
        at = where.at(p.get("_line"))
        offset = at.int(p.get("offset"), "passage offset")
        text, spans = _passage_text(at, p, offset, report, annotations, relations, index)
        if offset < length:
            raise at.error(f"passage at offset {offset} overlaps the one before it")
        if offset + len(text) > MAX_TEXT:
            raise at.error(f"passage at offset {offset} ends beyond the longest document read ({MAX_TEXT} characters)")
        parts.append(" " * (offset - length) + text)
        length = offset + len(text)
        sentences.extend(spans)
        infons = _read_infons(path, at.line, p.get("infons"), "passage infons", report, doc_id)
        kind = infons.pop("type", "")
        passages.append(Passage(offset, text, kind, make_attrs(infons)))
        annotations.extend((at, a) for a in at.items(p, "annotations", "passage annotations"))
        relations.extend({**_relation(at, r, report), "passage": index} for r in at.items(p, "relations", "relations"))
    full = "".join(parts)
    entities = [e for at, a in annotations if (e := _entity(at, a, full, report, multi)) is not None]
    meta: dict[str, Any] = {}
    infons = _read_infons(path, where.line, record.get("infons"), "document infons", report, doc_id)
    if infons:
        meta["bioc_infons"] = infons
    if relations:
        meta["bioc_relations"] = relations
    if shared:
        meta["bioc_collection"] = shared
    kept = tuple(sentences) if sentences else None  # BioC sentences, in order and apart (checked above)
    return Document(doc_id, full, tuple(entities), tuple(passages), sentences=kept, meta=meta)


def _passage_text(
    where: _Where,
    p: Record,
    offset: int,
    report: Report,
    annotations: list[tuple[_Where, Any]],
    relations: list[Record],
    index: int,
) -> tuple[str, list[Span]]:
    """The passage's text, from its sentences when it has none of its own (bioc and bconv write that layout).

    The sentences' annotations and relations are collected too; their spans are returned.
    """
    raw_text = p.get("text")
    text = None if raw_text is None else where.text(raw_text, f"passage text at offset {offset}")
    sentences = where.items(p, "sentences", "passage sentences")
    if not sentences:
        if text is None:
            raise where.error(f"passage at offset {offset} has no text")
        return text, []
    joined = ""
    spans: list[Span] = []
    for number, raw in enumerate(sentences, start=1):
        s = where.obj(raw, f"sentence {number} of the passage at offset {offset}")
        at = where.at(s.get("_line"))
        start = at.int(s.get("offset"), "sentence offset")
        sentence_text = at.text(s.get("text", ""), "sentence text")
        local = start - offset
        if local < len(joined):
            raise at.error(f"sentence at offset {start} starts before the end of the one before it or its passage")
        if local - len(joined) > MAX_TEXT:
            raise at.error(f"sentence offset {start} is beyond the longest document read ({MAX_TEXT} characters)")
        joined += " " * (local - len(joined)) + sentence_text
        if sentence_text:
            spans.append((start, start + len(sentence_text)))
        annotations.extend((at, a) for a in at.items(s, "annotations", "sentence annotations"))
        relations.extend({**_relation(at, r, report), "passage": index} for r in at.items(s, "relations", "relations"))
    if not text:
        report.warn("passages whose text is in their sentences (read from the sentences)", 1)
        return joined, spans
    for start, end in spans:
        if text[start - offset : end - offset] != joined[start - offset : end - offset]:
            raise where.error(f"sentence at offset {start} differs from its passage's text")
    return text, spans


def _relation(where: _Where, raw: Any, report: Report) -> Record:
    r = where.obj(raw, "a relation")
    nodes = [where.obj(n, "a relation node") for n in where.items(r, "nodes", "relation nodes")]
    return {
        "id": str(r.get("id") or ""),
        "infons": _read_infons(where.path, where.line, r.get("infons"), "relation infons", report, where.doc),
        "nodes": [{"refid": str(n.get("refid", "")), "role": str(n.get("role", ""))} for n in nodes],
    }


def _entity(where: _Where, raw: Any, text: str, report: Report, multi: str) -> Entity | None:
    a = where.obj(raw, "an annotation")
    where = where.at(a.get("_line"))
    infons = _read_infons(where.path, where.line, a.get("infons"), "annotation infons", report, where.doc)
    label = infons.pop("type", None)
    if not label:
        raise where.error(f"annotation {str(a.get('id'))[:EXCERPT]} has no 'type' infon")
    spans = []
    for raw_location in where.items(a, "locations", "annotation locations"):
        loc = where.obj(raw_location, "an annotation location")
        start = where.int(loc.get("offset"), "location offset")
        spans.append((start, start + where.int(loc.get("length"), "location length")))
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
            raise where.error(f"location [{s}, {e}) out of range (text of {len(text)})")
    expected = " ".join(text[s:e] for s, e in sorted(spans))
    mention = a.get("text")
    if mention is not None and mention != expected:
        fragments = [text[s:e] for s, e in sorted(spans)]
        if len(spans) > 1 and isinstance(mention, str) and fragments_in_order(fragments, mention):
            report.warn("multi-location annotation texts with other fragment separators (' ... '), read", 1)
        else:
            raise where.error(f"annotation text {excerpt(mention)} differs from the document text {excerpt(expected)}")
    key = next((k for k in (*_ID_KEYS, label) if k in infons), None)
    entity_id = infons.pop(key) if key is not None else None
    if key not in {None, "identifier"}:
        attrs[ID_KEY] = str(key)
    if a.get("id") is not None:
        if not isinstance(a["id"], str):
            report.warn("annotation ids that are not strings (read as text)", 1)
        attrs[BIOC_ID] = str(a["id"])
    attrs.update({INFON + k: v for k, v in infons.items()})
    return Entity(start, end, label, text[start:end], id=entity_id, attrs=make_attrs(attrs))


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
            out.write(_xml(collection_record, report))
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
            _relation_record(r)
        )
    ids = _AnnotationIds(doc.entities)
    for e in doc.entities:
        index = max((i for i, p in enumerate(passages) if p.offset <= e.start), default=0)
        records[index]["annotations"].append(_annotation_record(e, ids.take(e), text))
    infons = doc.meta.get("bioc_infons", {}) if _meta_ok("bioc_infons", doc.meta) else {}
    record: Record = {"id": doc.id, "infons": {str(k): str(v) for k, v in infons.items()}, "passages": records}
    record["relations"] = relations
    return record


def _relation_record(r: Record) -> Record:
    """A relation of ``doc.meta["bioc_relations"]`` (checked by :func:`_meta_ok`) as strings."""
    return {
        "id": str(r.get("id") or ""),
        "infons": {str(k): str(v) for k, v in (r.get("infons") or {}).items()},
        "nodes": [{"refid": str(n.get("refid", "")), "role": str(n.get("role", ""))} for n in r.get("nodes") or []],
    }


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


def _xml(collection: Record, report: Report) -> str:
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
    replaced = _replace_invalid_characters(root)
    report.lose("ids, infons and other fields with characters XML cannot hold (replaced by spaces)", replaced)
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode").replace("\r", "&#13;")
    return f"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE collection SYSTEM \"BioC.dtd\">\n{body}\n"


def _replace_invalid_characters(root: ElementTree.Element) -> int:
    """Replace, in every text and attribute, the characters XML 1.0 cannot hold; returns how many fields had some.

    Document texts were cleaned (and counted) before, so what is counted here are ids, infons,
    relation nodes and collection fields: an XML file with a control character is one no parser reads.
    """
    replaced = 0
    for el in root.iter():
        if el.text and _XML_INVALID.search(el.text):
            el.text = _XML_INVALID.sub(" ", el.text)
            replaced += 1
        for key, value in list(el.attrib.items()):
            if _XML_INVALID.search(key) or _XML_INVALID.search(value):
                del el.attrib[key]
                el.set(_XML_INVALID.sub(" ", key), _XML_INVALID.sub(" ", value))
                replaced += 1
    return replaced


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
