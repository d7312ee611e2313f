"""Canonical JSONL: one document per line, the interchange format every command reads and writes.

``{"id": str, "text": str, "entities": [{"start", "end", "label", "text", "id"?, "score"?, "attrs"?}],
"passages"?: [{"offset", "text", "kind"}], "sentences"?: [[start, end]], "meta"?: {}}``
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bioner.errors import InputError, Report
from bioner.formats.common import open_text, open_write
from bioner.types import Document, Entity, Passage


def read(path: str | Path, report: Report | None = None) -> Iterator[Document]:
    """Documents of a JSONL file; a bad line stops with its file and line number."""
    with open_text(path, report) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(path, number, f"invalid JSON: {err.msg} (column {err.colno})") from None
            yield from_record(record, path, number)


def from_record(record: Any, path: str | Path | None = None, line: int | None = None) -> Document:
    """One document from a decoded JSON object, with errors located at ``path:line``."""
    if not isinstance(record, dict):
        raise InputError(path, line, "expected a JSON object per line")
    try:
        doc_id, text = record["id"], record["text"]
        if not isinstance(doc_id, str) or not isinstance(text, str):
            raise InputError(path, line, "'id' and 'text' must be strings")
        entities = [_entity(e) for e in record.get("entities", [])]
        passages = [Passage(int(p["offset"]), p["text"], p.get("kind", "")) for p in record.get("passages", [])]
        sentences = record.get("sentences")
        return Document(
            id=doc_id,
            text=text,
            entities=tuple(entities),
            passages=tuple(passages),
            sentences=tuple((int(s), int(e)) for s, e in sentences) if sentences is not None else None,
            meta=record.get("meta") or {},
        )
    except KeyError as err:
        raise InputError(path, line, f"missing field {err.args[0]!r}") from None
    except (TypeError, ValueError) as err:
        raise InputError(path, line, str(err)) from None


def _entity(e: dict[str, Any]) -> Entity:
    for key in ("start", "end"):
        if not isinstance(e[key], int) or isinstance(e[key], bool):
            raise ValueError(f"entity {key!r} must be an integer, got {e[key]!r}")
    score = e.get("score")
    attrs = e.get("attrs") or {}
    return Entity(
        start=e["start"],
        end=e["end"],
        label=str(e["label"]),
        text=e["text"],
        id=e.get("id"),
        score=float(score) if score is not None else None,
        attrs=tuple(sorted((str(k), str(v)) for k, v in attrs.items())),
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
