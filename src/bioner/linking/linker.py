"""The linker: a stage after any backend that gives each predicted mention a concept ID from an index.

For each mention of a type the index covers: its text, with short forms defined in the
same document read as their long forms (:mod:`bioner.linking.abbreviations`), is linked
as a whole and, when it is a coordination, part by part (:mod:`bioner.linking.composite`);
the parts win when each links better than the whole, and the mention then gets every
part's concept. The link's score is the candidate's combined score (the lowest part's for
a composite); under ``threshold`` the mention stays unlinked (NIL, ``id`` None) rather
than forced onto a poor candidate. The score and the matched name are kept in
``attrs`` (``link_score``, ``link_name``), so every format with attributes shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bioner.errors import BionerError, Report
from bioner.linking.abbreviations import abbreviation_map, expand
from bioner.linking.composite import split_composite
from bioner.linking.index import Candidate, LinkIndex, TypeIndex, load_index
from bioner.settings import fill
from bioner.types import Document, Entity, make_attrs

LINK_SCORE, LINK_NAME = "link_score", "link_name"
"""The ``attrs`` keys of a link's score and of the vocabulary name it matched."""


@dataclass
class LinkConfig:
    """The ``[link]`` table: which index, how candidates combine, and when a mention stays unlinked."""

    index: str | None = None
    """A link index folder (``bioner link index``); unset: no linking."""
    threshold: float = 0.5
    """Links scoring below this leave the mention unlinked (NIL)."""
    alpha: float = 0.5
    """Weight of the sparse (character 3-gram TF-IDF) score against the dense one: 1 sparse only, 0 dense only."""
    top_k: int = 5
    """Candidates kept per mention (accuracy@k needs k of them)."""
    abbreviations: bool = True
    """Read short forms defined in the document (Schwartz–Hearst) as their long forms."""
    composite: bool = True
    """Link coordinated mentions ("breast and ovarian cancer") part by part when the parts link better."""

    def problems(self) -> list[str]:
        problems = []
        if not 0.0 <= self.alpha <= 1.0:
            problems.append(f"link.alpha must lie in [0, 1], got {self.alpha}")
        if self.top_k < 1:
            problems.append(f"link.top_k must be at least 1, got {self.top_k}")
        return problems


@dataclass(frozen=True)
class Link:
    """A mention's link: its identifiers (every part's for a composite), score, name, and ranked candidates."""

    ids: tuple[str, ...]
    score: float
    name: str
    candidates: tuple[tuple[Candidate, ...], ...]
    """Ranked candidates of the whole mention, or of each part of a composite one."""
    query: str
    """The text linked: the mention with short forms expanded."""

    def ids_at(self, k: int) -> set[str]:
        """Identifiers of the ``k`` best candidates (of every part)."""
        return {i for ranked in self.candidates for c in ranked[:k] for i in c.ids}


class Linker:
    """An index with its settings; ``linker.link(docs)`` fills in the ``id`` of every mention it can."""

    def __init__(self, index: LinkIndex, config: LinkConfig | None = None) -> None:
        self.index = index
        self.config = config or LinkConfig()
        problems = self.config.problems()
        if problems:
            raise BionerError(problems[0])
        if self.config.alpha < 1 and index.embedding_model is None:
            raise BionerError("the link index has no dense vectors: set link.alpha = 1 (sparse candidates only)")

    @classmethod
    def from_config(cls, config: LinkConfig, report: Report | None = None) -> Linker:
        if config.index is None:
            raise BionerError("link.index: name a link index folder (bioner link index ... --output INDEX)")
        return cls(load_index(Path(config.index).expanduser(), report), config)

    def rank(self, mentions: Sequence[tuple[Document, Entity]], k: int | None = None) -> list[Link | None]:
        """The link of each (document, mention); None for a mention whose label the index does not cover."""
        k = max(k or 0, self.config.top_k)
        abbreviations: dict[str, dict[str, str]] = {}
        queries: dict[str, list[str]] = {}
        plans: list[tuple[TypeIndex, str, list[str]] | None] = []
        for doc, entity in mentions:
            type_index = self.index.type_for(entity.label)
            if type_index is None:
                plans.append(None)
                continue
            text = entity.text
            if self.config.abbreviations:
                if doc.id not in abbreviations:
                    abbreviations[doc.id] = abbreviation_map(doc.text)
                text = expand(text, abbreviations[doc.id])
            parts = split_composite(text) if self.config.composite else [text]
            parts = parts if len(parts) > 1 else []
            queries.setdefault(type_index.type, []).extend([text, *parts])
            plans.append((type_index, text, parts))
        ranked = {name: self._candidates(self.index.types[name], texts, k) for name, texts in queries.items()}
        results: list[Link | None] = []
        for plan in plans:
            if plan is None:
                results.append(None)
                continue
            type_index, text, parts = plan
            whole = ranked[type_index.type][text]
            pieces = [ranked[type_index.type][p] for p in parts]
            results.append(_decide(text, whole, pieces))
        return results

    def _candidates(self, type_index: TypeIndex, texts: list[str], k: int) -> dict[str, tuple[Candidate, ...]]:
        distinct = list(dict.fromkeys(texts))
        vectors: npt.NDArray[np.float32] | None = None
        if self.config.alpha < 1:
            vectors = self.index.embed(distinct)
        found = type_index.candidates(distinct, k, self.config.alpha, vectors)
        return {t: tuple(c) for t, c in zip(distinct, found, strict=True)}

    def link(self, docs: Sequence[Document], report: Report | None = None) -> list[Document]:
        """The documents with every covered mention linked (or left NIL); counts go to ``report``."""
        mentions = [(doc, e) for doc in docs for e in doc.entities]
        links = iter(self.rank(mentions))
        out = []
        linked = nil = uncovered = 0
        for doc in docs:
            entities = []
            for entity in doc.entities:
                found = next(links)
                if found is None:
                    uncovered += 1
                    entities.append(entity)
                    continue
                keep = found.score >= self.config.threshold and bool(found.ids)
                linked += keep
                nil += not keep
                attrs = make_attrs(dict(entity.attrs), **{LINK_SCORE: f"{found.score:.4f}", LINK_NAME: found.name})
                entities.append(replace(entity, id="|".join(found.ids) if keep else None, attrs=attrs))
            out.append(doc.with_entities(entities))
        if report is not None:
            report.warn("mentions linked to a concept", linked)
            report.warn(f"mentions left unlinked (NIL: best link scored under {self.config.threshold:g})", nil)
            report.warn("mentions of labels the link index has no vocabulary for (left as they were)", uncovered)
        return out


def _decide(text: str, whole: tuple[Candidate, ...], parts: list[tuple[Candidate, ...]]) -> Link:
    """The whole mention's best candidate, or every part's when each part scores above the whole."""
    best = whole[0] if whole else None
    if parts and all(parts) and min(p[0].score for p in parts) > (best.score if best else 0.0):
        ids = tuple(dict.fromkeys(i for p in parts for i in p[0].ids))
        return Link(ids, min(p[0].score for p in parts), " | ".join(p[0].name for p in parts), tuple(parts), text)
    if best is None:
        return Link((), 0.0, "", (whole,), text)
    return Link(best.ids, best.score, best.name, (whole,), text)


LinkSource = str | Path | Linker | LinkConfig
"""What names a linker: an index folder, a ``[link]`` config, or a linker."""


def load_linker(source: LinkSource, report: Report | None = None) -> Linker:
    """A linker from an index folder, a ``[link]`` config, or itself."""
    if isinstance(source, Linker):
        return source
    if isinstance(source, LinkConfig):
        return Linker.from_config(source, report)
    return Linker.from_config(LinkConfig(index=str(source)), report)


def saved_link_config(tables: Mapping[str, Any], source: str) -> LinkConfig | None:
    """The ``[link]`` table of a saved model's config when it names an index, else None."""
    table = tables.get("link")
    if not isinstance(table, Mapping) or table.get("index") is None:
        return None
    config = LinkConfig()
    fill(config, table, "link", source)
    return config
