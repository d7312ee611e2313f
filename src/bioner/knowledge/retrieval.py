"""Nearest knowledge-base names for query phrases: an embedding retriever and a character 3-gram TF-IDF one.

Both answer ``search(queries, k) -> (scores, indices)`` with cosine similarities, best
first. The embedding retriever encodes names with a sentence-transformers model
(default: the packaged all-MiniLM-L6-v2; SapBERT or any other by hub name or folder)
and searches a FAISS inner-product index over L2-normalised vectors. The embeddings of
a knowledge base are cached as ``.npy`` files keyed by a hash of (model, names), so a
second run with the same knowledge base encodes only its queries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bioner.errors import BionerError
from bioner.extras import need
from bioner.files import atomic_path, cache_dir

RETRIEVERS = ("embedding", "tfidf")
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"

_BLOCK_CELLS = 20_000_000
"""Similarities held at once by the TF-IDF search (80 MB of float32)."""

Scores = npt.NDArray[np.float32]
Indices = npt.NDArray[np.int64]


class Retriever(Protocol):
    def fit(self, names: Sequence[str]) -> None: ...

    def search(self, queries: Sequence[str], k: int) -> tuple[Scores, Indices]: ...


def default_cache_dir() -> Path:
    """Where knowledge-base embeddings are cached: ``kb-embeddings`` in the cache folder."""
    return cache_dir("kb-embeddings")


class TfidfRetriever:
    """Cosine similarity of character 3-gram TF-IDF vectors (within word boundaries); fast, no model."""

    def __init__(self) -> None:
        text = need("sklearn.feature_extraction.text", "dbr", "the TF-IDF retriever")
        self._vectorizer = text.TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 3), lowercase=True, dtype=np.float32
        )
        self._matrix: Any = None
        self._rows: Any = None

    def fit(self, names: Sequence[str]) -> None:
        self._matrix = self._vectorizer.fit_transform(names).T.tocsr() if names else None
        self._rows = None

    def search(self, queries: Sequence[str], k: int) -> tuple[Scores, Indices]:
        if self._matrix is None or not queries:
            return _empty(len(queries))
        out_scores, out_indices = [], []
        rows = max(1, min(1024, _BLOCK_CELLS // self._matrix.shape[1]))  # one bounded dense block at a time
        for first in range(0, len(queries), rows):
            block = (self._vectorizer.transform(queries[first : first + rows]) @ self._matrix).toarray()
            scores, indices = _top_k(block.astype(np.float32), k)
            out_scores.append(scores)
            out_indices.append(indices)
        return np.concatenate(out_scores), np.concatenate(out_indices)

    def pair_scores(self, queries: Sequence[str], indices: Indices) -> Scores:
        """The cosine of query ``i`` with each name of row ``i`` of ``indices`` (0 where the index is -1).

        The linker combines these with dense scores for candidates that only one retriever found.
        """
        scores = np.zeros(indices.shape, dtype=np.float32)
        if self._matrix is None or not queries or not indices.size:
            return scores
        if self._rows is None:
            self._rows = self._matrix.T.tocsr()
        rows, cols = np.nonzero(indices >= 0)
        query_vectors = self._vectorizer.transform(queries).tocsr()
        products = query_vectors[rows].multiply(self._rows[indices[rows, cols]]).sum(axis=1)
        scores[rows, cols] = np.asarray(products, dtype=np.float32).ravel()
        return scores


class EmbeddingRetriever:
    """Sentence embeddings (normalised, mean-pooled as the model's own config says) in a FAISS flat IP index."""

    def __init__(
        self, model: str = DEFAULT_EMBEDDING_MODEL, cache_dir: str | Path | None = None, batch_size: int = 256
    ):
        self.model_name = model
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.batch_size = batch_size
        self._model: Any = None
        self._index: Any = None

    def _encoder(self) -> Any:
        if self._model is None:
            from bioner.backbones import resolve_backbone

            models = need("sentence_transformers", "dbr", "the embedding retriever")

            try:
                self._model = models.SentenceTransformer(
                    resolve_backbone(self.model_name), device="cpu", trust_remote_code=False
                )
            except (OSError, ValueError) as err:
                raise BionerError(f"cannot load embedding model {self.model_name!r}: {err}") from None
        return self._model

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        vectors = self._encoder().encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def cache_path(self, names: Sequence[str]) -> Path:
        digest = hashlib.sha256(self.model_name.encode())
        for name in names:
            digest.update(b"\0" + name.encode())
        return self.cache_dir / f"{digest.hexdigest()[:32]}.npy"

    def fit(self, names: Sequence[str]) -> None:
        faiss = need("faiss", "dbr", "the embedding retriever")

        path = self.cache_path(names)
        vectors: npt.NDArray[np.float32] | None = None
        if path.is_file():
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(names):
                vectors = cached
        if vectors is None:
            vectors = self.embed(names)
            with atomic_path(path) as tmp, tmp.open("wb") as handle:
                np.save(handle, vectors, allow_pickle=False)
        self._index = faiss.IndexFlatIP(vectors.shape[1]) if len(names) else None
        if self._index is not None:
            self._index.add(vectors)

    def search(self, queries: Sequence[str], k: int) -> tuple[Scores, Indices]:
        if self._index is None or not queries:
            return _empty(len(queries))
        scores, indices = self._index.search(self.embed(queries), min(k, self._index.ntotal))
        return scores.astype(np.float32), indices.astype(np.int64)


def make_retriever(kind: str, model: str = DEFAULT_EMBEDDING_MODEL, cache_dir: str | Path | None = None) -> Retriever:
    if kind == "tfidf":
        return TfidfRetriever()
    if kind == "embedding":
        return EmbeddingRetriever(model, cache_dir)
    raise BionerError(f"unknown retriever {kind!r}; choose one of {', '.join(RETRIEVERS)}")


def _top_k(similarities: npt.NDArray[np.float32], k: int) -> tuple[Scores, Indices]:
    """The ``k`` best columns of each row, best first (ties by lower index, so results are reproducible)."""
    k = min(k, similarities.shape[1])
    if k < similarities.shape[1]:
        candidates = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    else:
        candidates = np.tile(np.arange(k), (similarities.shape[0], 1))
    values = np.take_along_axis(similarities, candidates, axis=1)
    order = np.lexsort((candidates, -values), axis=1)
    return np.take_along_axis(values, order, axis=1), np.take_along_axis(candidates, order, axis=1).astype(np.int64)


def _empty(n: int) -> tuple[Scores, Indices]:
    return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
