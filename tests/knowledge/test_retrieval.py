"""Retrieval on a tiny knowledge base: TF-IDF character 3-grams always, MiniLM embeddings + FAISS in a slow test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bioner.knowledge.retrieval import EmbeddingRetriever, TfidfRetriever, make_retriever

NAMES = ["breast cancer", "breast carcinoma", "lung cancer", "BRCA1", "BRCA2", "cisplatin", "carboplatin"]


def test_tfidf_finds_spelling_neighbours_best_first() -> None:
    retriever = TfidfRetriever()
    retriever.fit(NAMES)
    scores, indices = retriever.search(["breast cancers", "BRCA-1", "cisplatine"], 3)
    assert scores.shape == indices.shape == (3, 3)
    assert NAMES[indices[0, 0]] == "breast cancer"
    assert {NAMES[i] for i in indices[1, :2]} == {"BRCA1", "BRCA2"}
    assert NAMES[indices[2, 0]] == "cisplatin"
    assert np.all(np.diff(scores, axis=1) <= 0)
    assert np.all(scores <= 1.0 + 1e-6)


def test_k_larger_than_the_knowledge_base_and_no_queries() -> None:
    retriever = make_retriever("tfidf")
    retriever.fit(NAMES[:2])
    _, indices = retriever.search(["breast"], 10)
    assert indices.shape == (1, 2)
    assert retriever.search([], 3)[0].shape == (0, 0)


@pytest.mark.slow
def test_minilm_embeddings_retrieve_synonyms_and_are_cached(tmp_path: Path) -> None:
    retriever = EmbeddingRetriever(cache_dir=tmp_path)
    retriever.fit(NAMES)
    cached = list(tmp_path.glob("*.npy"))
    assert len(cached) == 1
    assert np.load(cached[0]).shape == (len(NAMES), 384)
    _, indices = retriever.search(["mammary cancer", "platinum chemotherapy drug"], 2)
    assert "breast" in NAMES[indices[0, 0]]
    assert {NAMES[i] for i in indices[1]} <= {"cisplatin", "carboplatin"}
    again = EmbeddingRetriever(cache_dir=tmp_path)
    stamp = cached[0].stat().st_mtime_ns
    again.fit(NAMES)  # reads the cache, writes nothing
    assert cached[0].stat().st_mtime_ns == stamp
    assert again.cache_path(NAMES[:-1]) != again.cache_path(NAMES)
