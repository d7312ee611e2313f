"""Corpus statistics: what a corpus holds before anyone trains on it.

Counts are computed in one linear pass per split (plus a quadratic check only inside
groups of mentions that actually overlap), so they stay fast on corpora of tens of
thousands of documents. The dictionaries are JSON-ready; ``bioner corpus stats --json``
prints them as they are and other tools read that shape.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bioner.errors import BionerError
from bioner.text import document_sentences, tokenize, whitespace_tokenize
from bioner.types import Corpus, Document, Entity, Span, nested_or_overlapping

LENGTH_BUCKETS = ("1", "2", "3+")
"""Mention lengths in tokens, as reported under ``length_buckets``."""


def length_bucket(n_tokens: int) -> str:
    """The bucket of a mention ``n_tokens`` long (a mention always touches at least one token)."""
    return "1" if n_tokens <= 1 else "2" if n_tokens == 2 else "3+"


def document_tokens(doc: Document) -> list[Span]:
    """The word tokens statistics count: whitespace tokens for pre-tokenized sources, else :func:`tokenize`."""
    if doc.meta.get("tokenization") == "whitespace":
        return whitespace_tokenize(doc.text)
    return tokenize(doc.text)


def mention_token_counts(entities: Sequence[Entity], tokens: Sequence[Span]) -> list[int]:
    """How many of the (sorted, disjoint) ``tokens`` each entity touches, by binary search."""
    starts = [s for s, _ in tokens]
    ends = [e for _, e in tokens]
    return [max(1, bisect_left(starts, e.end) - bisect_right(ends, e.start)) for e in entities]


def nesting_counts(entities: Sequence[Entity]) -> tuple[int, int]:
    """``(nested, crossing)`` as :func:`bioner.types.nested_or_overlapping` counts them.

    That function compares every pair; here it only sees groups of mutually reachable
    overlapping mentions, so a document with thousands of disjoint mentions stays linear.
    """
    nested = crossing = 0
    group: list[Entity] = []
    group_end = -1
    for e in sorted(entities, key=lambda x: (x.start, x.end)):
        if group and e.start >= group_end:
            n, c = nested_or_overlapping(group) if len(group) > 1 else (0, 0)
            nested, crossing = nested + n, crossing + c
            group = []
        group.append(e)
        group_end = max(group_end, e.end) if len(group) > 1 else e.end
    if len(group) > 1:
        n, c = nested_or_overlapping(group)
        nested, crossing = nested + n, crossing + c
    return nested, crossing


def split_stats(docs: Iterable[Document], labels: Sequence[str] = ()) -> dict[str, Any]:
    """Counts for one split; every label in ``labels`` appears even when it has no mention.

    ``unique_mentions`` counts distinct surface strings per label, case-sensitively
    ("BRCA1" and "brca1" are two). A mention's length is the number of tokens it touches.
    """
    documents = sentences = tokens = characters = doc_tokens_max = nested = crossing = 0
    mentions: Counter[str] = Counter()
    surfaces: dict[str, set[str]] = {}
    buckets: Counter[str] = Counter()
    buckets_by_label: dict[str, Counter[str]] = {}
    for doc in docs:
        doc_tokens = document_tokens(doc)
        documents += 1
        sentences += len(document_sentences(doc))
        tokens += len(doc_tokens)
        characters += len(doc.text)
        doc_tokens_max = max(doc_tokens_max, len(doc_tokens))
        for entity, n_tokens in zip(doc.entities, mention_token_counts(doc.entities, doc_tokens), strict=True):
            mentions[entity.label] += 1
            surfaces.setdefault(entity.label, set()).add(entity.text)
            bucket = length_bucket(n_tokens)
            buckets[bucket] += 1
            buckets_by_label.setdefault(entity.label, Counter())[bucket] += 1
        n, c = nesting_counts(doc.entities)
        nested, crossing = nested + n, crossing + c
    all_labels = [*labels, *sorted(set(mentions) - set(labels))]
    return {
        "documents": documents,
        "sentences": sentences,
        "tokens": tokens,
        "characters": characters,
        "mentions": {label: mentions[label] for label in all_labels},
        "mentions_total": sum(mentions.values()),
        "unique_mentions": {label: len(surfaces.get(label, ())) for label in all_labels},
        "length_buckets": {b: buckets[b] for b in LENGTH_BUCKETS},
        "length_buckets_by_label": {
            label: {b: buckets_by_label.get(label, Counter())[b] for b in LENGTH_BUCKETS} for label in all_labels
        },
        "nested": nested,
        "overlapping": crossing,
        "doc_tokens_mean": round(tokens / documents, 2) if documents else 0.0,
        "doc_tokens_max": doc_tokens_max,
    }


def select_splits(corpus: Corpus, splits: Sequence[str] | None = None) -> list[str]:
    """The requested splits in the order asked (all of the corpus's when none), or a one-line error."""
    if not splits:
        return list(corpus.splits)
    unknown = [s for s in splits if s not in corpus.splits]
    if unknown:
        raise BionerError(
            f"corpus {corpus.name!r} has no split {unknown[0]!r}; it has: {', '.join(corpus.splits) or 'none'}"
        )
    return list(dict.fromkeys(splits))


def corpus_stats(corpus: Corpus, splits: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"corpus", "notes", "labels", "splits": {split: split_stats}}`` for the chosen splits."""
    chosen = select_splits(corpus, splits)
    labels = list(corpus.labels)
    per_split = {name: split_stats(corpus.splits[name], labels) for name in chosen}
    for counts in per_split.values():
        labels += [label for label in counts["mentions"] if label not in labels]
    for counts in per_split.values():
        _align_labels(counts, labels)
    return {"corpus": corpus.name, "notes": list(corpus.notes), "labels": labels, "splits": per_split}


def _align_labels(counts: dict[str, Any], labels: Sequence[str]) -> None:
    """Give every split the same label keys, in the same order (a label may occur in one split only)."""
    empty = dict.fromkeys(LENGTH_BUCKETS, 0)
    counts["mentions"] = {label: counts["mentions"].get(label, 0) for label in labels}
    counts["unique_mentions"] = {label: counts["unique_mentions"].get(label, 0) for label in labels}
    counts["length_buckets_by_label"] = {
        label: counts["length_buckets_by_label"].get(label, dict(empty)) for label in labels
    }


def label_counts(docs: Iterable[Document], labels: Sequence[str]) -> npt.NDArray[np.float64]:
    """A documents x labels matrix: how many mentions of each label each document has."""
    column = {label: i for i, label in enumerate(labels)}
    rows = []
    for doc in docs:
        row = [0.0] * len(labels)
        for e in doc.entities:
            if e.label in column:
                row[column[e.label]] += 1
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(labels))


def label_correlation(docs: Iterable[Document], labels: Sequence[str]) -> npt.NDArray[np.float64]:
    """Pearson correlation between labels' per-document mention counts.

    A label whose count is the same in every document (absent, or a single document)
    has no defined correlation: its row and column are NaN, without a numpy warning.
    """
    counts = label_counts(docs, labels)
    centred = counts - counts.mean(axis=0) if len(counts) else counts
    spread = np.sqrt((centred**2).sum(axis=0))
    defined = spread > 0
    matrix = np.full((len(labels), len(labels)), np.nan)
    if defined.any():
        unit = centred[:, defined] / spread[defined]
        matrix[np.ix_(defined, defined)] = np.clip(unit.T @ unit, -1.0, 1.0)
    return matrix
