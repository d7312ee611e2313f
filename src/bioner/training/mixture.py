"""Training on a mixture of named corpora: one model for all, each document knowing its corpus.

Corpora annotate differently (NCBI-disease and BC5CDR both tag diseases, by different
guidelines) and each annotates only its own entity types, so a mixture cannot simply
pool documents under one label set. Every document of a mixture carries its corpus
name in ``meta["corpus"]``; a backend uses it to pick the instruction (llm-tagger) or the
corpus's own label set. Sampling weights let a small corpus count more per epoch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from bioner.corpora.naming import with_corpus
from bioner.errors import BionerError, Report
from bioner.training.config import DataConfig
from bioner.types import Document

DEFAULT_MIXTURE = ("ncbi-disease", "bc5cdr", "bc2gm", "jnlpba", "linnaeus", "s800")
"""VANER's single-type and multi-type corpora that bioner ships readers for."""


def load_mixture(data: DataConfig, splits: Sequence[str], report: Report | None = None) -> dict[str, list[Document]]:
    """Each split of every ``data.mixture`` corpus, concatenated, each document tagged with its corpus.

    ``data.limit`` keeps the first N documents of each corpus's split, so a smoke run sees every corpus.
    """
    from bioner.corpora import load_corpus

    if len(set(data.mixture)) != len(data.mixture):
        raise BionerError(f"data.mixture names a corpus twice: {', '.join(data.mixture)}")
    found: dict[str, list[Document]] = {split: [] for split in splits}
    for name in data.mixture:
        corpus = load_corpus(name, splits=list(splits), data_dir=data.data_dir, report=report)
        for split in splits:
            docs = list(corpus.splits.get(split, []))[: data.limit]
            found[split].extend(with_corpus(d, name) for d in docs)
    return found


def corpus_weights(data: DataConfig) -> dict[str, float]:
    """Sampling weight of each mixture corpus (1 unless ``data.weights`` says otherwise)."""
    weights = data.weights or [1.0] * len(data.mixture)
    return dict(zip(data.mixture, weights, strict=True))


def weighted_sample(groups: Sequence[str], weights: dict[str, float], seed: int) -> list[int]:
    """Indices of examples drawn so that group ``g`` contributes ``weights[g]`` times its size.

    Whole multiples repeat every example; the fractional part is a seeded sample without
    replacement, so a run is reproducible. Groups without a weight count once.
    """
    rng = random.Random(seed)
    members: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    chosen: list[int] = []
    for group, indices in members.items():
        weight = weights.get(group, 1.0)
        whole, fraction = int(weight), weight - int(weight)
        chosen.extend(indices * whole)
        chosen.extend(sorted(rng.sample(indices, round(fraction * len(indices)))))
    return chosen
