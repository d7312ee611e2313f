"""Canonical JSONL: one document per line, the interchange format every command reads and writes.

``{"id": str, "text": str, "entities": [{"start", "end", "label", "text", "id"?, "score"?, "attrs"?}],
"passages"?: [{"offset", "text", "kind"}], "sentences"?: [[start, end]], "meta"?: {}}``
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bioner.errors import InputError, Report, excerpt
from bioner.formats.common import open_text, open_write
from bioner.types import Document, Entity, Passage


def read(path: str | Path, report: Report | None = None) -> Iterator[Document]:
    """Documents of a JSONL file; a bad line stops with its file and line number."""
    report = report if report is not None else Report()
    with open_text(path, report) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(path, number, f"invalid JSON: {err.msg} (column {err.colno})") from None
            except RecursionError:
                raise InputError(path, number, "JSON nested too deeply") from None
            yield from_record(record, path, number, report)


def from_record(
    record: Any, path: str | Path | None = None, line: int | None = None, report: Report | None = None
) -> Document:
    """One document from a decoded JSON object, with errors located at ``path:line``.

    Ids given as numbers are read as text and counted in ``report``; any other wrong type is an error.
    """
    report = report if report is not None else Report()
    if not isinstance(record, dict):
        raise InputError(path, line, f"expected a JSON object per line, got {_kind(record)}")
    try:
        doc_id = _text_id(record["id"], "document ids", report)
        text = record["text"]
        if not isinstance(doc_id, str) or not isinstance(text, str):
            raise InputError(path, line, "'id' and 'text' must be strings")
        entities = [_entity(e, report) for e in _list(record, "entities")]
        passages = [_passage(p) for p in _list(record, "passages")]
        sentences = record.get("sentences")
        if sentences is not None:
            sentences = [_pair(s) for s in _list(record, "sentences")]
        meta = record.get("meta", {})
        meta = {} if meta is None else meta
        if not isinstance(meta, dict):
            raise ValueError(f"'meta' must be an object, got {_kind(meta)}")
        return Document(
            id=doc_id,
            text=text,
            entities=tuple(entities),
            passages=tuple(passages),
            sentences=tuple(sentences) if sentences is not None else None,
            meta=meta,
        )
    except KeyError as err:
        raise InputError(path, line, f"missing field {excerpt(err.args[0])}") from None
    except (TypeError, ValueError) as err:
        raise InputError(path, line, str(err)) from None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _list(record: dict[str, Any], key: str) -> list[Any]:
    value = record.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list, got {_kind(value)}")
    return value


def _integer(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, got {excerpt(value)}")
    return value


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {_kind(value)}")
    return value


def _text_id(value: Any, what: str, report: Report) -> Any:
    """An id as text: a number (a PMID, a concept id) is read as its digits and counted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        report.warn(f"{what} that are numbers (read as text)", 1)
        return str(value)
    return value


def _pair(value: Any) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"a sentence must be a [start, end] pair, got {excerpt(value)}")
    return _integer(value[0], "sentence start"), _integer(value[1], "sentence end")


def _passage(p: Any) -> Passage:
    if not isinstance(p, dict):
        raise ValueError(f"a passage must be an object, got {_kind(p)}")
    offset = _integer(p["offset"], "passage 'offset'")
    return Passage(offset, _string(p["text"], "passage 'text'"), _string(p.get("kind", ""), "passage 'kind'"))


def _entity(e: Any, report: Report) -> Entity:
    if not isinstance(e, dict):
        raise ValueError(f"an entity must be an object, got {_kind(e)}")
    for key in ("start", "end"):
        _integer(e[key], f"entity {key!r}")
    score = e.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise ValueError(f"entity 'score' must be a number, got {excerpt(score)}")
    attrs = e.get("attrs", {})
    attrs = {} if attrs is None else attrs
    if not isinstance(attrs, dict):
        raise ValueError(f"entity 'attrs' must be an object, got {_kind(attrs)}")
    entity_id = _text_id(e.get("id"), "entity ids", report)
    if entity_id is not None and not isinstance(entity_id, str):
        raise ValueError(f"entity 'id' must be a string, got {_kind(entity_id)}")
    return Entity(
        start=e["start"],
        end=e["end"],
        label=_string(e["label"], "entity 'label'"),
        text=_string(e["text"], "entity 'text'"),
        id=entity_id,
        score=float(score) if score is not None else None,
        attrs=tuple(sorted((str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in attrs.items())),
    )


def to_record(doc: Document) -> dict[str, Any]:
    """The JSON object of a document (optional keys only when they hold something)."""
    record: dict[str, Any] = {"id": doc.id, "text": doc.text, "entities": [entity_record(e) for e in doc.entities]}
    if doc.passages:
        record["passages"] = [{"offset": p.offset, "text": p.text, "kind": p.kind} for p in doc.passages]
    if doc.sentences is not None:
        record["sentences"] = [list(s) for s in doc.sentences]
    if doc.meta:
        record["meta"] = dict(doc.meta)
    return record


def entity_record(e: Entity) -> dict[str, Any]:
    out: dict[str, Any] = {"start": e.start, "end": e.end, "label": e.label, "text": e.text}
    if e.id is not None:
        out["id"] = e.id
    if e.score is not None:
        out["score"] = e.score
    if e.attrs:
        out["attrs"] = dict(e.attrs)
    return out


def write(docs: Iterable[Document], path: str | Path) -> Report:
    """Write documents; JSONL holds everything a Document has, so nothing is lost."""
    with open_write(path) as out:
        for doc in docs:
            out.write(json.dumps(to_record(doc), ensure_ascii=False) + "\n")
    return Report()
