"""Few-shot examples from the training split: random with a seed, or nearest by MiniLM embedding."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from bioner.backbones import DEFAULT_BACKBONE, resolve_backbone
from bioner.extras import need
from bioner.prompting.chunks import chunk_spans
from bioner.prompting.template import Example
from bioner.types import Document


def candidate_examples(docs: Sequence[Document], labels: Sequence[str], max_chars: int) -> list[Example]:
    """Every passage of the training documents, with its mentions of ``labels`` in text order."""
    wanted = set(labels)
    out = []
    for doc in docs:
        for start, end in chunk_spans(doc, max_chars):
            inside = [e for e in sorted(doc.entities) if start <= e.start and e.end <= end and e.label in wanted]
            mentions = tuple(dict.fromkeys((e.text, e.label) for e in inside))
            out.append(Example(doc.text[start:end], mentions))
    return out


class ShotSelector:
    """``k`` examples per query: the same random ones (``random``) or the most similar (``nearest``)."""

    def __init__(self, pool: Sequence[Example], k: int, selection: str, seed: int) -> None:
        self.k = min(k, len(pool))
        self.selection = selection
        with_mentions = [e for e in pool if e.mentions]
        self.pool = list(pool)
        self.fixed = random.Random(seed).sample(with_mentions or self.pool, min(self.k, len(with_mentions or pool)))
        self.encoder: Any = None
        if selection == "nearest" and self.k:
            st = need("sentence_transformers", "llm", "nearest few-shot selection")
            self.encoder = st.SentenceTransformer(resolve_backbone(DEFAULT_BACKBONE), device="cpu")
            self.vectors = self.encoder.encode([e.text for e in self.pool], normalize_embeddings=True)

    def select(self, text: str) -> list[Example]:
        if not self.k:
            return []
        if self.encoder is None:
            return list(self.fixed)
        query = self.encoder.encode([text], normalize_embeddings=True)[0]
        order = (self.vectors @ query).argsort()[::-1]
        return [self.pool[int(i)] for i in order[: self.k]][::-1]  # the nearest last, next to the query
