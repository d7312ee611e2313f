"""Mixtures of corpora: documents know their corpus, weights scale a corpus's share, configs are checked."""

from __future__ import annotations

from collections import Counter

import pytest

from bioner.corpora.naming import corpus_of, with_corpus
from bioner.errors import BionerError
from bioner.training.config import load_config
from bioner.training.mixture import corpus_weights, weighted_sample
from bioner.types import Document


def test_a_document_carries_its_corpus_name() -> None:
    doc = Document("d", "text", meta={"source": "x"})
    tagged = with_corpus(doc, "bc5cdr")
    assert corpus_of(tagged) == "bc5cdr" and tagged.meta["source"] == "x"
    assert with_corpus(tagged, "bc5cdr") is tagged
    assert corpus_of(doc, "fallback") == "fallback" and corpus_of(doc) is None


def test_weights_repeat_or_subsample_a_corpus_reproducibly() -> None:
    groups = ["a"] * 10 + ["b"] * 10 + ["c"] * 4
    chosen = weighted_sample(groups, {"a": 2.0, "b": 0.5}, seed=1)
    counts = Counter(groups[i] for i in chosen)
    assert counts == {"a": 20, "b": 5, "c": 4}  # c has no weight: once
    assert Counter(chosen[:20]) == Counter(i for i in range(10) for _ in range(2))
    assert chosen == weighted_sample(groups, {"a": 2.0, "b": 0.5}, seed=1)
    assert chosen != weighted_sample(groups, {"a": 2.0, "b": 0.5}, seed=2)


def test_mixture_config_keys_are_checked() -> None:
    config = load_config(None, ['data.mixture=["ncbi-disease", "bc5cdr"]', "data.weights=[1, 2.5]"])
    assert corpus_weights(config.data) == {"ncbi-disease": 1.0, "bc5cdr": 2.5}
    assert corpus_weights(load_config(None, ['data.mixture=["s800"]']).data) == {"s800": 1.0}
    with pytest.raises(BionerError, match="one weight per"):
        load_config(None, ['data.mixture=["ncbi-disease"]', "data.weights=[1, 2]"])
    with pytest.raises(BionerError, match="must be positive"):
        load_config(None, ['data.mixture=["ncbi-disease"]', "data.weights=[0]"])
    with pytest.raises(BionerError, match="not both"):
        load_config(None, ['data.mixture=["ncbi-disease"]', "data.corpus=bc5cdr"])
    with pytest.raises(BionerError, match="a list of numbers"):
        load_config(None, ['data.weights=["heavy"]'])
    with pytest.raises(BionerError, match=r"train\.schedule must be one of"):
        load_config(None, ["train.schedule=cosine"])


def test_a_mixture_loads_every_corpus_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from bioner import corpora
    from bioner.training.data import load_splits
    from bioner.types import Corpus

    def fake(name: str, splits: list[str], data_dir: str | None = None, report: object = None) -> Corpus:
        docs = [Document(f"{name}-{i}", "text") for i in range(3)]
        return Corpus(name, {s: docs for s in splits}, ("X",))

    monkeypatch.setattr(corpora, "load_corpus", fake)
    config = load_config(None, ['data.mixture=["one", "two"]', "data.limit=2"])
    found = load_splits(config.data, ("train", "dev"))
    assert [d.id for d in found["train"]] == ["one-0", "one-1", "two-0", "two-1"]
    assert [corpus_of(d) for d in found["dev"]] == ["one", "one", "two", "two"]
    with pytest.raises(BionerError, match="twice"):
        load_splits(load_config(None, ['data.mixture=["one", "one"]']).data, ("train",))
