"""Corpus statistics and plots on tiny hand-built corpora (expected numbers counted by hand)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bioner.errors import BionerError
from bioner.stats import (
    corpus_stats,
    label_correlation,
    mention_token_counts,
    nesting_counts,
    split_stats,
)
from bioner.text import tokenize
from bioner.types import Corpus, Document, Entity, entity_at, nested_or_overlapping

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def mention(text: str, surface: str, label: str, after: int = 0) -> Entity:
    start = text.index(surface, after)
    return entity_at(text, start, start + len(surface), label)


# 18 tokens ("c.68_69delAG" is c . 68 _ 69delAG), 2 sentences; "cáncer" is nested in "cáncer de mama".
T1 = "La mutación BRCA1 c.68_69delAG causa cáncer de mama. Se trató con éxito."
DOC1 = Document(
    "d1",
    T1,
    (
        mention(T1, "BRCA1", "Gene"),
        mention(T1, "c.68_69delAG", "Mutation"),
        mention(T1, "cáncer de mama", "Disease"),
        mention(T1, "cáncer", "Disease"),
    ),
)
# 12 tokens, 1 sentence; "en cáncer" crosses "cáncer de ovario" (both count as overlapping).
T2 = "Los genes BRCA1, brca1 y BRCA2 en cáncer de ovario."
DOC2 = Document(
    "d2",
    T2,
    (
        mention(T2, "BRCA1", "Gene"),
        mention(T2, "brca1", "Gene"),
        mention(T2, "BRCA2", "Gene"),
        mention(T2, "cáncer de ovario", "Disease"),
        mention(T2, "en cáncer", "Disease"),
    ),
)
# Pre-tokenized: 4 whitespace tokens (tokenize would give 8); "IL-2" lies inside one token.
T3 = "Die IL-2-Expression steigt ."
DOC3 = Document(
    "d3", T3, (mention(T3, "IL-2", "Gene"),), sentences=((0, len(T3)),), meta={"tokenization": "whitespace"}
)


def tiny_corpus() -> Corpus:
    return Corpus(
        "tiny",
        {"train": [DOC1, DOC2], "test": [DOC3]},
        labels=("Gene", "Disease", "Mutation"),
        notes=["dev carved from train (none here)"],
    )


def test_split_stats_counts_by_hand() -> None:
    counts = split_stats([DOC1, DOC2], ("Gene", "Disease", "Mutation"))
    assert counts == {
        "documents": 2,
        "sentences": 3,
        "tokens": 30,
        "characters": 72 + 51,
        "mentions": {"Gene": 4, "Disease": 4, "Mutation": 1},
        "mentions_total": 9,
        "unique_mentions": {"Gene": 3, "Disease": 4, "Mutation": 1},
        "length_buckets": {"1": 5, "2": 1, "3+": 3},
        "length_buckets_by_label": {
            "Gene": {"1": 4, "2": 0, "3+": 0},
            "Disease": {"1": 1, "2": 1, "3+": 2},
            "Mutation": {"1": 0, "2": 0, "3+": 1},
        },
        "nested": 1,
        "overlapping": 2,
        "doc_tokens_mean": 15.0,
        "doc_tokens_max": 18,
    }


def test_unique_mentions_are_case_sensitive() -> None:
    text = "BRCA1 brca1 BRCA1"
    doc = Document(
        "x", text, (entity_at(text, 0, 5, "Gene"), entity_at(text, 6, 11, "Gene"), entity_at(text, 12, 17, "Gene"))
    )
    assert split_stats([doc])["unique_mentions"] == {"Gene": 2}


def test_whitespace_tokenized_documents_use_whitespace_tokens() -> None:
    counts = split_stats([DOC3])
    assert counts["tokens"] == 4
    assert counts["sentences"] == 1
    assert counts["length_buckets"] == {"1": 1, "2": 0, "3+": 0}
    assert split_stats([Document("y", T3)])["tokens"] == 8


def test_empty_split() -> None:
    counts = split_stats([], ("Gene",))
    assert counts["documents"] == 0
    assert counts["doc_tokens_mean"] == 0.0
    assert counts["mentions"] == {"Gene": 0}


def test_corpus_stats_shape_labels_and_notes() -> None:
    corpus = tiny_corpus()
    corpus.splits["dev"] = [Document("d4", "E. coli", (entity_at("E. coli", 0, 7, "Species"),))]
    result = corpus_stats(corpus)
    assert result["corpus"] == "tiny"
    assert result["notes"] == ["dev carved from train (none here)"]
    assert result["labels"] == ["Gene", "Disease", "Mutation", "Species"]
    assert list(result["splits"]) == ["train", "test", "dev"]
    for counts in result["splits"].values():
        assert list(counts["mentions"]) == result["labels"]
        assert list(counts["unique_mentions"]) == result["labels"]
        assert list(counts["length_buckets_by_label"]) == result["labels"]
    assert result["splits"]["test"]["mentions"] == {"Gene": 1, "Disease": 0, "Mutation": 0, "Species": 0}
    assert result["splits"]["dev"]["mentions"]["Species"] == 1
    assert json.loads(json.dumps(result)) == result


def test_corpus_stats_selected_splits_and_unknown_split() -> None:
    corpus = tiny_corpus()
    assert list(corpus_stats(corpus, ["test"])["splits"]) == ["test"]
    with pytest.raises(BionerError, match="no split 'dev'"):
        corpus_stats(corpus, ["dev"])


def test_mention_token_counts_touch_partial_tokens() -> None:
    text = "anti-TNF therapy"
    tokens = tokenize(text)  # anti - TNF therapy
    ents = [entity_at(text, 0, 8, "C"), entity_at(text, 2, 6, "C"), entity_at(text, 5, 16, "C")]
    assert mention_token_counts(ents, tokens) == [3, 3, 2]  # "ti-T" touches anti, - and TNF


spans = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8), st.sampled_from("AB")), max_size=12)


@given(spans)
def test_nesting_counts_equal_the_pairwise_definition(raw: list[tuple[int, int, str]]) -> None:
    entities = [Entity(s, s + n, label, "x" * n) for s, n, label in raw]
    assert nesting_counts(entities) == nested_or_overlapping(entities)


def doc_with(counts: dict[str, int], i: int) -> Document:
    text = "x " * 20
    entities = []
    position = 0
    for label, n in counts.items():
        for _ in range(n):
            entities.append(entity_at(text, position, position + 1, label))
            position += 2
    return Document(f"c{i}", text, tuple(entities))


def test_label_correlation_values_and_undefined_columns() -> None:
    rows = [{"A": 1, "B": 2, "C": 3}, {"A": 2, "B": 4, "C": 2}, {"A": 3, "B": 6, "C": 1}]
    docs = [doc_with(r, i) for i, r in enumerate(rows)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        matrix = label_correlation(docs, ["A", "B", "C", "D"])
    assert matrix[:3, :3] == pytest.approx(np.array([[1, 1, -1], [1, 1, -1], [-1, -1, 1]], dtype=float))
    assert np.isnan(matrix[3]).all() and np.isnan(matrix[:, 3]).all()


def test_label_correlation_matches_numpy() -> None:
    rows = [{"A": 1, "B": 0}, {"A": 0, "B": 3}, {"A": 4, "B": 1}, {"A": 2, "B": 2}]
    docs = [doc_with(r, i) for i, r in enumerate(rows)]
    expected = np.corrcoef(np.array([[1, 0], [0, 3], [4, 1], [2, 2]], dtype=float), rowvar=False)
    assert label_correlation(docs, ["A", "B"]) == pytest.approx(expected)


def test_label_correlation_degenerate_inputs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(label_correlation([], ["A", "B"])).all()
        assert label_correlation([], ["A"]).shape == (1, 1)
        single = label_correlation([DOC1], ["Gene"])
    assert single.shape == (1, 1) and np.isnan(single[0, 0])
    assert label_correlation([DOC1, DOC3], ["Gene"])[0, 0] == pytest.approx(np.nan, nan_ok=True)
    assert label_correlation([DOC1, DOC2], ["Gene"])[0, 0] == pytest.approx(1.0)


def test_write_plots_writes_two_pngs(tmp_path: Path) -> None:
    from bioner.plots import write_plots

    corpus = tiny_corpus()
    paths = write_plots(corpus, corpus_stats(corpus), tmp_path / "plots")
    assert [p.name for p in paths] == ["tiny-unique-entities.png", "tiny-correlation.png"]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_HEADER) and len(data) > 5000


def test_plots_of_a_single_label_corpus_do_not_warn(tmp_path: Path) -> None:
    from bioner.plots import write_plots

    corpus = Corpus("one", {"test": [DOC1]}, labels=("Gene",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = write_plots(corpus, corpus_stats(corpus), tmp_path)
    assert all(p.read_bytes().startswith(PNG_HEADER) for p in paths)
