"""Which corpus a document comes from: ``meta["corpus"]``, set by the loaders of named corpora and mixtures.

Corpora annotate differently and each only its own entity types, so a model trained on
several keeps one label set (or instruction) per corpus and looks the corpus up here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bioner.types import Document

CORPUS_KEY = "corpus"
"""The ``Document.meta`` key naming the corpus a document comes from."""


def with_corpus(doc: Document, name: str) -> Document:
    """``doc`` with ``meta["corpus"] = name`` (unchanged when it already says so)."""
    if doc.meta.get(CORPUS_KEY) == name:
        return doc
    return dataclasses.replace(doc, meta={**doc.meta, CORPUS_KEY: name})


def corpus_of(doc: Document, default: str | None = None) -> str | None:
    """The corpus a document says it comes from, else ``default``."""
    name = doc.meta.get(CORPUS_KEY, default)
    return name if isinstance(name, str) else default


def group_by_corpus(docs: Iterable[Document], default: str | None = None) -> dict[str, list[Document]]:
    """The documents by the corpus they come from (``default`` when they name none; ``""`` when neither does)."""
    groups: dict[str, list[Document]] = {}
    for doc in docs:
        groups.setdefault(corpus_of(doc, default) or "", []).append(doc)
    return groups
