"""Core data types: documents whose character offsets are the truth.

Everything else (tokens, BIO tags, sub-words, windows, prompts) is a view derived
from these and decoded back to them. The types are plain frozen dataclasses and
import nothing heavy, so every layer can pass them around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

Span = tuple[int, int]
"""A half-open character span ``[start, end)``."""


@dataclass(frozen=True, slots=True, order=True)
class Entity:
    """A mention: half-open ``[start, end)`` offsets into its document's text.

    ``id`` holds the concept identifier(s) as the source gives them (MeSH, NCBI Gene,
    rsID...), ``score`` a model's confidence, ``attrs`` format-specific extras that a
    round trip must keep (sorted ``(key, value)`` pairs, so the entity stays hashable).
    """

    start: int
    end: int
    label: str
    text: str
    id: str | None = None
    score: float | None = None
    attrs: tuple[tuple[str, str], ...] = ()

    @property
    def span(self) -> Span:
        return (self.start, self.end)

    def attr(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    def overlaps(self, other: Entity | Span) -> bool:
        start, end = (other.start, other.end) if isinstance(other, Entity) else other
        return self.start < end and start < self.end

    def shifted(self, delta: int) -> Entity:
        return replace(self, start=self.start + delta, end=self.end + delta)


def make_attrs(values: Mapping[str, str] | None = None, **extra: str) -> tuple[tuple[str, str], ...]:
    """Build an ``Entity.attrs`` tuple in canonical (sorted) order."""
    merged = dict(values or {})
    merged.update(extra)
    return tuple(sorted(merged.items()))


@dataclass(frozen=True, slots=True)
class Passage:
    """A titled part of a document (title, abstract, section), placed at ``offset``."""

    offset: int
    text: str
    kind: str = ""
    attrs: tuple[tuple[str, str], ...] = ()

    @property
    def end(self) -> int:
        return self.offset + len(self.text)


@dataclass(frozen=True)
class Document:
    """A text with its entities, optional passages and sentence spans.

    Construction checks every offset against the text, so a ``Document`` that exists
    is consistent. Entities are kept sorted, so two documents with the same content
    compare equal whatever order a file listed them in. Nested and overlapping
    entities are allowed.
    """

    id: str
    text: str
    entities: tuple[Entity, ...] = ()
    passages: tuple[Passage, ...] = ()
    sentences: tuple[Span, ...] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        entities = tuple(sorted(self.entities, key=_entity_key))
        object.__setattr__(self, "entities", entities)
        object.__setattr__(self, "passages", tuple(self.passages))
        if self.sentences is not None:
            object.__setattr__(self, "sentences", tuple((int(s), int(e)) for s, e in self.sentences))
        problem = self.problem()
        if problem:
            raise ValueError(f"document {self.id!r}: {problem}")

    def problem(self) -> str | None:
        """The first inconsistency between offsets and text, or None."""
        n = len(self.text)
        for e in self.entities:
            if not 0 <= e.start < e.end <= n:
                return f"entity {e.label} [{e.start}, {e.end}) is out of range for a text of {n} characters"
            if self.text[e.start : e.end] != e.text:
                return (
                    f"entity {e.label} [{e.start}, {e.end}) text {e.text!r} differs from "
                    f"the document text {self.text[e.start : e.end]!r}"
                )
        for p in self.passages:
            if self.text[p.offset : p.end] != p.text or p.offset < 0:
                return f"passage {p.kind or '?'} at offset {p.offset} does not match the document text"
        if self.sentences is not None:
            previous_end = 0
            for first, last in self.sentences:
                if not (previous_end <= first < last <= n):
                    return f"sentence [{first}, {last}) is out of order or out of range"
                previous_end = last
        return None

    def with_entities(self, entities: Iterable[Entity]) -> Document:
        return replace(self, entities=tuple(entities))

    def labels(self) -> set[str]:
        return {e.label for e in self.entities}


def _entity_key(e: Entity) -> tuple[int, int, str, str, str, float, tuple[tuple[str, str], ...]]:
    return (e.start, e.end, e.label, e.text, e.id or "", e.score if e.score is not None else -1.0, e.attrs)


@dataclass
class Corpus:
    """Named splits of documents, with notes on how they were made (carved dev sets...)."""

    name: str
    splits: dict[str, list[Document]]
    labels: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, split: str) -> list[Document]:
        return self.splits[split]

    def all_labels(self) -> tuple[str, ...]:
        if self.labels:
            return self.labels
        return tuple(sorted({e.label for docs in self.splits.values() for d in docs for e in d.entities}))


def entity_at(doc_text: str, start: int, end: int, label: str, **kwargs: Any) -> Entity:
    """An entity whose text is read from the document text (the usual way to build one)."""
    return Entity(start, end, label, doc_text[start:end], **kwargs)


def nested_or_overlapping(entities: Sequence[Entity]) -> tuple[int, int]:
    """Count entities nested inside another and entities crossing another (partial overlap).

    Identical spans with different labels count as nested.
    """
    nested = crossing = 0
    ordered = sorted(entities, key=lambda e: (e.start, -e.end))
    for i, e in enumerate(ordered):
        is_nested = is_crossing = False
        for j, o in enumerate(ordered):
            if i == j or not e.overlaps(o):
                continue
            if o.start <= e.start and e.end <= o.end and (o.span != e.span or j < i):
                is_nested = True
            elif not (e.start <= o.start and o.end <= e.end):
                is_crossing = True
        nested += is_nested
        crossing += is_crossing
    return nested, crossing
