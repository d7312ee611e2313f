"""Knowledge bases: loading, normalised deduplication, synonyms by concept id, and the test-leak guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.errors import BionerError, InputError
from bioner.knowledge.kb import KnowledgeBase, build_kb, kb_from_documents, load_kb, normalize_name
from bioner.types import Corpus, Document, entity_at

FIXTURES = Path(__file__).parents[1] / "fixtures" / "knowledge"


def test_names_are_deduplicated_across_case_and_whitespace_and_keep_every_id_and_source() -> None:
    kb = load_kb(FIXTURES / "user.tsv")
    assert normalize_name("  Breast\u00a0 CANCER ") == "breast cancer"
    entry = next(e for e in kb if e.type == "Disease" and normalize_name(e.name) == "breast cancer")
    assert entry.name == "Breast Cancer"  # first spelling seen, whitespace collapsed
    assert entry.count == 4  # 1 (empty count column) + 3
    assert entry.sources == {"umls", "user.tsv"}  # a row without a source is credited to its file
    assert len(kb) == 5
    assert kb.stats()["Disease"] == {"names": 2, "mentions": 5, "with_id": 2}
    cisplatin = next(e for e in kb if e.name == "cisplatin")
    assert cisplatin.ids == {"D002945", "C0008838"}


def test_synonyms_are_linked_by_concept_id() -> None:
    kb = load_kb(FIXTURES / "user.tsv")
    assert sorted(e.name for e in kb.synonyms()["D001943"]) == ["Breast Cancer", "mammary carcinoma"]


def test_the_same_name_with_two_types_stays_two_entries() -> None:
    kb = KnowledgeBase()
    kb.add("p53", "Gene")
    kb.add("P53", "Chemical")
    kb.add("p53", "Gene")
    assert sorted((e.type, e.count) for e in kb) == [("Chemical", 1), ("Gene", 2)]


def test_jsonl_and_tsv_round_trip(tmp_path: Path) -> None:
    kb = load_kb(FIXTURES / "user.tsv")
    kb.merge(load_kb(FIXTURES / "user.jsonl"))
    for name in ("kb.tsv", "kb.jsonl"):
        again = load_kb(kb.save(tmp_path / name))
        assert [(e.name, e.type, e.ids, e.sources, e.count) for e in again] == [
            (e.name, e.type, e.ids, e.sources, e.count) for e in kb
        ]


def test_a_malformed_row_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"bad\.tsv:2: expected 2 to 5 tab-separated columns"):
        load_kb(FIXTURES / "bad.tsv")


def test_mentions_of_documents_become_entries_with_split_ids() -> None:
    text = "BRCA1 and BRCA2 cause breast cancer."
    doc = Document(
        "d",
        text,
        (
            entity_at(text, 0, 5, "Gene", id="672"),
            entity_at(text, 22, 35, "Disease", id="D001943|D009369"),
        ),
    )
    kb = kb_from_documents([doc], "toy/train")
    disease = next(e for e in kb if e.type == "Disease")
    assert disease.ids == {"D001943", "D009369"}
    assert disease.sources == {"toy/train"}


def test_a_knowledge_base_holding_test_mentions_is_refused() -> None:
    kb = load_kb(FIXTURES / "leaky.tsv")
    with pytest.raises(BionerError, match=r"1 entries come from a test split \(ncbi-disease/test"):
        kb.check_no_test_leak()
    load_kb(FIXTURES / "user.tsv").check_no_test_leak()  # no test sources: accepted


def test_building_from_a_test_split_is_refused_and_train_mentions_never_include_test_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(BionerError, match="refusing to build a knowledge base from the 'test' split"):
        build_kb(["toy"], splits=("train", "test"))

    def doc(name: str, text: str, label: str) -> Document:
        return Document(name, text, (entity_at(text, 0, len(text), label),))

    splits = {"train": [doc("a", "asthma", "Disease")], "test": [doc("b", "gout", "Disease")]}

    def fake_load(name: str, splits: list[str], data_dir: object = None, report: object = None) -> Corpus:
        return Corpus(name, {s: every[s] for s in splits})

    every = splits
    monkeypatch.setattr("bioner.corpora.load_corpus", fake_load)
    kb = build_kb(["toy"], [FIXTURES / "user.jsonl"])
    assert {e.name for e in kb} == {"asthma", "lung cancer", "EGFR"}
    kb.check_no_test_leak()
