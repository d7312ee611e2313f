"""The documents a config names: splits of a named corpus, or files in any format bioner reads."""

from __future__ import annotations

from collections.abc import Sequence

from bioner.errors import BionerError, Report
from bioner.training.config import DataConfig
from bioner.types import Document


def load_splits(data: DataConfig, splits: Sequence[str], report: Report | None = None) -> dict[str, list[Document]]:
    """The documents of each split asked for (``data.limit`` keeps only the first N of each).

    A split with no file configured is empty; a named corpus gives all of its splits. Documents of a
    named corpus (or a mixture) carry the corpus name in ``meta["corpus"]``, so a tagger trained on
    several corpora knows which one a document comes from.
    """
    if data.mixture:
        from bioner.training.mixture import load_mixture

        return load_mixture(data, splits, report)
    if data.corpus is not None:
        from bioner.corpora import load_corpus
        from bioner.corpora.naming import with_corpus

        corpus = load_corpus(data.corpus, splits=list(splits), data_dir=data.data_dir, report=report)
        name, limit = data.corpus, data.limit
        return {split: [with_corpus(d, name) for d in list(corpus.splits.get(split, []))[:limit]] for split in splits}
    if data.train is not None or any(getattr(data, s, None) for s in splits):
        from bioner.formats import read_documents

        found = {}
        for split in splits:
            path = getattr(data, split, None)
            found[split] = list(read_documents(path, data.format, report)) if path else []
    else:
        raise BionerError(
            "the config names no data: set data.corpus, data.mixture, or data.train (and data.dev, data.test)"
        )
    if data.limit is not None:
        found = {split: docs[: data.limit] for split, docs in found.items()}
    return found
