"""Index building, candidates, and saving to plain files (TSV, JSON, safetensors) and back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bioner.errors import BionerError
from bioner.linking.index import INDEX_FILE, LinkIndex, build_index, link_form, load_index
from bioner.linking.vocab import Concept, MentionName


def test_link_form_folds_case_and_punctuation() -> None:
    assert link_form("Wilson's  Disease,") == "wilson s disease"


def test_mentions_join_their_vocabulary_concept_or_make_their_own(sparse_index: LinkIndex) -> None:
    disease = sparse_index.types["Disease"]
    assert len(disease.concept_ids) == 8  # 7 MEDIC concepts + the composite (D001943, D010051)
    assert ("D001943", "D010051") in disease.concept_ids
    myeloma = disease.names.index("Myeloma")  # the MEDIC name and the mention "myeloma" share one row, counted
    assert disease.concept_ids[disease.name_concept[myeloma]] == ("D009101",)
    assert disease.name_count[myeloma] == 3
    assert sparse_index.types["Gene"].concept_ids == [("672",)]


def test_sparse_candidates_rank_concepts_by_their_best_name(sparse_index: LinkIndex) -> None:
    disease = sparse_index.types["Disease"]
    [ranked] = disease.candidates(["Wilson disease"], 3, alpha=1.0)
    assert ranked[0].ids == ("D006527",) and ranked[0].score == pytest.approx(1.0)
    assert len(ranked) == 3 and ranked[0].score >= ranked[1].score >= ranked[2].score


def test_an_index_round_trips_through_its_folder(sparse_index: LinkIndex, tmp_path: Path) -> None:
    vectors = np.eye(len(sparse_index.types["Gene"].names), 4, dtype=np.float32)
    sparse_index.types["Gene"].vectors = vectors
    try:
        folder = sparse_index.save(tmp_path / "index")
    finally:
        sparse_index.types["Gene"].vectors = None
    assert sorted(p.name for p in folder.iterdir()) == [
        "Disease.concepts.tsv",
        "Disease.names.tsv",
        "Gene.concepts.tsv",
        "Gene.names.tsv",
        "Gene.vectors.safetensors",
        INDEX_FILE,
    ]
    loaded = load_index(folder)
    for name, t in sparse_index.types.items():
        assert loaded.types[name].concept_ids == t.concept_ids
        assert loaded.types[name].names == t.names
        assert loaded.types[name].name_count.tolist() == t.name_count.tolist()
    np.testing.assert_array_equal(loaded.types["Gene"].vectors, vectors)
    assert loaded.types["Disease"].vectors is None


def test_a_broken_index_is_a_one_line_error(index_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="not a link index"):
        load_index(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in index_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "Disease.names.tsv").write_text("asthma\t99\t0\n")
    with pytest.raises(BionerError, match=r"Disease.names.tsv:1: concept row 99"):
        load_index(broken)
    meta = json.loads((broken / INDEX_FILE).read_text())
    (broken / INDEX_FILE).write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(BionerError, match="version"):
        load_index(broken)


@pytest.mark.slow
def test_dense_candidates_use_the_packaged_minilm(tmp_path: Path) -> None:
    concepts = [
        Concept(("D1",), ("heart attack",), "Disease"),
        Concept(("D2",), ("kidney stone",), "Disease"),
        Concept(("D3",), ("skin rash",), "Disease"),
    ]
    index, _ = build_index(concepts, [MentionName("renal calculus", ("D2",), "Disease")])
    vectors = index.types["Disease"].vectors
    assert vectors is not None and vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-4)
    loaded = load_index(index.save(tmp_path / "dense"))
    queries = ["myocardial infarction", "kidney stones"]
    [heart, kidney] = loaded.types["Disease"].candidates(queries, 1, alpha=0.0, query_vectors=loaded.embed(queries))
    assert heart[0].ids == ("D1",) and kidney[0].ids == ("D2",)
