"""A linking index: per entity type, the concepts, their names, and a dense vector per name; plain files.

Layout of an index folder (no pickles, nothing executable)::

    index.json                 format, version, embedding model, types and counts, sources
    <type>.concepts.tsv        one concept per row: identifiers (``|``-separated), preferred name
    <type>.names.tsv           one name per row: name, concept row, training-mention count
    <type>.vectors.safetensors ``vectors``: one L2-normalised float16 embedding per name row

The character 3-gram TF-IDF model is refitted from the names when the index loads (seconds
for MEDIC's 76k names), so it needs no file. Names are compared in their *link form*
(:func:`link_form`: NFKC, case folded, punctuation as spaces), and each (link form,
concept) is kept once. Candidates combine both retrievers: the best ``pool`` names of
each are rescored by both, ``alpha · sparse + (1 − alpha) · dense`` (``alpha`` 1: sparse
only, 0: dense only), and a concept scores as its best name; ties go to the concept the
training mentions used that name for most often, then to the concept they name most often.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file, save

from bioner.errors import BionerError, InputError, Report
from bioner.extras import need
from bioner.files import atomic_path
from bioner.formats.common import open_write, read_text
from bioner.knowledge.retrieval import DEFAULT_EMBEDDING_MODEL, EmbeddingRetriever, TfidfRetriever
from bioner.linking.vocab import Concept, MentionName
from bioner.progress import progress_bar

INDEX_FILE = "index.json"
INDEX_FORMAT = "bioner-link-index"
INDEX_VERSION = 1
EMBED_BATCH = 1024
"""Names embedded per step when an index is built (one progress step each)."""

_NOT_WORD = re.compile(r"[\W_]+")


def link_form(name: str) -> str:
    """How names are compared: NFKC, case folded, every run of punctuation or space one space."""
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", name).casefold()).strip()


@dataclass(frozen=True)
class Candidate:
    """A concept proposed for a mention: its identifiers, the name that matched, and the combined score."""

    ids: tuple[str, ...]
    name: str
    score: float


@dataclass
class TypeIndex:
    """The concepts and names of one entity type, with the retrievers built over the names."""

    type: str
    concept_ids: list[tuple[str, ...]]
    preferred: list[str]
    names: list[str]
    name_concept: npt.NDArray[np.int64]
    name_count: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32] | None = None
    _sparse: TfidfRetriever | None = field(default=None, repr=False)
    _dense: Any = field(default=None, repr=False)
    _concept_mentions: npt.NDArray[np.int64] | None = field(default=None, repr=False)

    def sparse(self) -> TfidfRetriever:
        if self._sparse is None:
            self._sparse = TfidfRetriever()
            self._sparse.fit([link_form(n) for n in self.names])
        return self._sparse

    def dense(self) -> Any:
        """A FAISS inner-product index over the name vectors."""
        if self._dense is None:
            if self.vectors is None:
                raise BionerError(f"the link index of {self.type!r} has no dense vectors (built with --no-dense)")
            faiss = need("faiss", "dbr", "dense linking candidates")
            self._dense = faiss.IndexFlatIP(self.vectors.shape[1])
            self._dense.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
        return self._dense

    def candidates(
        self,
        queries: Sequence[str],
        k: int,
        alpha: float,
        query_vectors: npt.NDArray[np.float32] | None = None,
        pool: int = 64,
    ) -> list[list[Candidate]]:
        """The ``k`` best concepts of each query, best first (see the module docstring for the score)."""
        if not queries:
            return []
        forms = [link_form(q) for q in queries]
        found: list[npt.NDArray[np.int64]] = []
        if alpha > 0:
            found.append(self.sparse().search(forms, pool)[1])
        if alpha < 1:
            if query_vectors is None:
                raise BionerError("dense linking needs the query embeddings")
            found.append(self.dense().search(query_vectors, min(pool, len(self.names)))[1].astype(np.int64))
        indices = _union_rows(found)
        combined = np.zeros(indices.shape, dtype=np.float32)
        if alpha > 0:
            combined += alpha * self.sparse().pair_scores(forms, indices)
        if alpha < 1 and query_vectors is not None and self.vectors is not None:
            safe = np.where(indices >= 0, indices, 0)
            dense = np.einsum("qd,qkd->qk", query_vectors, self.vectors[safe])
            combined += (1 - alpha) * dense.astype(np.float32)
        return [self._best_concepts(row, scores, k) for row, scores in zip(indices, combined, strict=True)]

    def concept_mentions(self) -> npt.NDArray[np.int64]:
        """Training mentions per concept (all its names together): the tie-break after the name's own count."""
        if self._concept_mentions is None:
            counts = np.bincount(self.name_concept, weights=self.name_count, minlength=len(self.concept_ids))
            self._concept_mentions = counts.astype(np.int64)
        return self._concept_mentions

    def _best_concepts(self, row: npt.NDArray[np.int64], scores: npt.NDArray[np.float32], k: int) -> list[Candidate]:
        best: dict[int, tuple[float, int, int]] = {}
        for name_row, score in zip(row.tolist(), scores.tolist(), strict=True):
            if name_row < 0:
                continue
            concept = int(self.name_concept[name_row])
            key = (round(float(score), 6), int(self.name_count[name_row]), name_row)
            if concept not in best or key[:2] > best[concept][:2]:
                best[concept] = key
        prior = self.concept_mentions()
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], -int(prior[item[0]]), item[0]))[:k]
        return [Candidate(self.concept_ids[c], self.names[key[2]], key[0]) for c, key in ranked]


def _union_rows(arrays: Sequence[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
    """Per row, the distinct non-negative indices of all arrays, padded with -1."""
    if len(arrays) == 1:
        return arrays[0]
    stacked = np.concatenate(arrays, axis=1)
    rows = [list(dict.fromkeys(int(i) for i in row if i >= 0)) for row in stacked]
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


@dataclass
class LinkIndex:
    """Type indexes and the embedding model their vectors came from (None: sparse candidates only)."""

    types: dict[str, TypeIndex]
    embedding_model: str | None = DEFAULT_EMBEDDING_MODEL
    sources: list[str] = field(default_factory=list)
    _encoder: EmbeddingRetriever | None = field(default=None, repr=False)

    def encoder(self) -> EmbeddingRetriever:
        if self.embedding_model is None:
            raise BionerError("this link index was built without dense vectors; use alpha = 1 (sparse candidates)")
        if self._encoder is None:
            self._encoder = EmbeddingRetriever(self.embedding_model)
        return self._encoder

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.encoder().embed([link_form(t) for t in texts])

    def type_for(self, label: str) -> TypeIndex | None:
        """The type index of a label (exact, else the one type equal to it ignoring case)."""
        if label in self.types:
            return self.types[label]
        folded = [t for name, t in self.types.items() if name.casefold() == label.casefold()]
        return folded[0] if len(folded) == 1 else None

    def save(self, folder: str | Path) -> Path:
        """Write the index folder (each file atomically); an existing index there is replaced."""
        target = Path(folder)
        if target.exists() and not target.is_dir():
            raise BionerError(f"{target}: exists and is not a folder")
        target.mkdir(parents=True, exist_ok=True)
        stems = _file_stems(self.types)
        meta: dict[str, Any] = {
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "embedding_model": self.embedding_model,
            "sources": self.sources,
            "types": {},
        }
        for name, t in self.types.items():
            stem = stems[name]
            with open_write(target / f"{stem}.concepts.tsv") as out:
                for ids, preferred in zip(t.concept_ids, t.preferred, strict=True):
                    out.write(f"{'|'.join(ids)}\t{preferred}\n")
            with open_write(target / f"{stem}.names.tsv") as out:
                for n, c, count in zip(t.names, t.name_concept.tolist(), t.name_count.tolist(), strict=True):
                    out.write(f"{n}\t{c}\t{count}\n")
            if t.vectors is not None:
                with atomic_path(target / f"{stem}.vectors.safetensors") as tmp:
                    tmp.write_bytes(save({"vectors": t.vectors.astype(np.float16)}))
            meta["types"][name] = {
                "file": stem,
                "concepts": len(t.concept_ids),
                "names": len(t.names),
                "dim": int(t.vectors.shape[1]) if t.vectors is not None else None,
            }
        with open_write(target / INDEX_FILE) as out:
            out.write(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        return target


def load_index(folder: str | Path, report: Report | None = None) -> LinkIndex:
    """An index folder written by :meth:`LinkIndex.save`; anything missing or inconsistent is a one-line error."""
    root = Path(folder)
    meta_path = root / INDEX_FILE
    if not meta_path.is_file():
        raise BionerError(f"{root}: not a link index (no {INDEX_FILE}); build one with `bioner link index`")
    try:
        meta = json.loads(read_text(meta_path))
    except json.JSONDecodeError as err:
        raise InputError(meta_path, err.lineno, f"invalid JSON: {err.msg}") from None
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
        raise InputError(meta_path, None, f"not a {INDEX_FORMAT} file")
    if meta.get("version") != INDEX_VERSION:
        raise InputError(meta_path, None, f"index version {meta.get('version')!r}; this bioner reads {INDEX_VERSION}")
    types = {}
    for name, info in meta["types"].items():
        types[name] = _load_type(root, name, info, report)
    model = meta.get("embedding_model")
    return LinkIndex(types, model if isinstance(model, str) else None, list(meta.get("sources", [])))


def _load_type(root: Path, name: str, info: dict[str, Any], report: Report | None) -> TypeIndex:
    stem = str(info["file"])
    concepts_path, names_path = root / f"{stem}.concepts.tsv", root / f"{stem}.names.tsv"
    concept_ids, preferred = [], []
    for number, line in enumerate(read_text(concepts_path, report).split("\n"), start=1):
        if line:
            ids, sep, shown = line.partition("\t")
            if not sep or not ids:
                raise InputError(concepts_path, number, "expected ids<TAB>preferred name")
            concept_ids.append(tuple(ids.split("|")))
            preferred.append(shown)
    names, name_concept, name_count = [], [], []
    for number, line in enumerate(read_text(names_path, report).split("\n"), start=1):
        if line:
            cells = line.split("\t")
            if len(cells) != 3 or not cells[1].isdigit() or not cells[2].isdigit():
                raise InputError(names_path, number, "expected name<TAB>concept row<TAB>count")
            if int(cells[1]) >= len(concept_ids):
                raise InputError(names_path, number, f"concept row {cells[1]} beyond the {len(concept_ids)} concepts")
            names.append(cells[0])
            name_concept.append(int(cells[1]))
            name_count.append(int(cells[2]))
    vectors = None
    vectors_path = root / f"{stem}.vectors.safetensors"
    if info.get("dim") is not None:
        if not vectors_path.is_file():
            raise BionerError(f"{vectors_path}: missing (the index says {name!r} has dense vectors)")
        vectors = np.asarray(load_file(str(vectors_path))["vectors"], dtype=np.float32)
        if vectors.shape[0] != len(names):
            raise BionerError(f"{vectors_path}: {vectors.shape[0]} vectors for {len(names)} names")
    return TypeIndex(
        name,
        concept_ids,
        preferred,
        names,
        np.array(name_concept, dtype=np.int64),
        np.array(name_count, dtype=np.int64),
        vectors,
    )


def _file_stems(types: Iterable[str]) -> dict[str, str]:
    """A safe, distinct file name stem per type."""
    stems: dict[str, str] = {}
    for name in types:
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "type"
        while stem in stems.values():
            stem += "_"
        stems[name] = stem
    return stems


@dataclass
class _TypeBuilder:
    concept_ids: list[tuple[str, ...]] = field(default_factory=list)
    preferred: list[str] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    by_key: dict[tuple[str, ...], int] = field(default_factory=dict)
    rows: dict[tuple[str, int], list[Any]] = field(default_factory=dict)
    """(link form, concept) -> [name, count]."""

    def concept(self, ids: tuple[str, ...], name: str) -> int:
        """The concept of ``ids``: the known concept all of them belong to, else a new one (composite when several)."""
        known = {self.by_id[i] for i in ids if i in self.by_id}
        if len(known) == 1 and all(i in self.by_id for i in ids):
            return known.pop()
        if ids in self.by_key:
            return self.by_key[ids]
        number = self.by_key[ids] = len(self.concept_ids)
        self.concept_ids.append(ids)
        self.preferred.append(name)
        if len(ids) == 1 or not known:
            for i in ids:
                self.by_id.setdefault(i, number)
        return number

    def name(self, name: str, concept: int, count: int) -> None:
        form = link_form(name)
        if form:
            row = self.rows.setdefault((form, concept), [name, 0])
            row[1] += count


def build_index(
    concepts: Iterable[Concept],
    mentions: Iterable[MentionName] = (),
    *,
    embedding_model: str | None = DEFAULT_EMBEDDING_MODEL,
    sources: Sequence[str] = (),
    progress: bool = False,
) -> tuple[LinkIndex, float]:
    """An index of vocabulary concepts and training mentions (dense vectors unless ``embedding_model`` is None).

    A mention whose identifiers all belong to one vocabulary concept becomes a name of
    that concept; other identifiers become concepts of their own (a composite one for a
    mention with several). Returns the index and the seconds it took.
    """
    began = time.perf_counter()
    builders: dict[str, _TypeBuilder] = {}
    for concept in concepts:
        builder = builders.setdefault(concept.type, _TypeBuilder())
        number = builder.concept(concept.ids, concept.names[0])
        for name in concept.names:
            builder.name(name, number, 0)
    for mention in mentions:
        builder = builders.setdefault(mention.type, _TypeBuilder())
        builder.name(mention.name, builder.concept(mention.ids, mention.name), mention.count)
    types = {}
    for type_, b in builders.items():
        rows = list(b.rows.items())
        types[type_] = TypeIndex(
            type_,
            b.concept_ids,
            b.preferred,
            [r[1][0] for r in rows],
            np.array([r[0][1] for r in rows], dtype=np.int64),
            np.array([r[1][1] for r in rows], dtype=np.int64),
        )
    index = LinkIndex(types, embedding_model, list(sources))
    if embedding_model is not None:
        total = sum(len(t.names) for t in types.values())
        with progress_bar(unit="names", enabled=progress) as bar:
            task = bar.add_task("embedding names", total=total, info="")
            for t in types.values():
                parts = []
                for first in range(0, len(t.names), EMBED_BATCH):
                    parts.append(index.embed(t.names[first : first + EMBED_BATCH]))
                    bar.advance(task, len(parts[-1]))
                t.vectors = np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)
    return index, time.perf_counter() - began
