"""Dense samples: B/I tags sit exactly on the wanted type's names, counts and modes follow the config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bioner.errors import BionerError, Report
from bioner.formats import read_documents
from bioner.knowledge.dense import (
    DENSE_ADDED,
    SEPARATOR,
    DbrConfig,
    DenseSample,
    dense_samples,
    training_kb,
    training_samples,
)
from bioner.knowledge.kb import kb_from_documents, load_kb
from bioner.models.instructions import dense_instance
from bioner.text import tokenize

FIXTURES = Path(__file__).parents[1] / "fixtures"
TRAIN = list(read_documents(FIXTURES / "encoder" / "train.jsonl"))
LABELS = ["Disease", "Gene"]
RETRIEVED = DbrConfig(mode="retrieved", retriever="tfidf")


def test_tags_match_the_entities_of_the_wanted_type_only() -> None:
    sample = DenseSample("Disease", ("BRCA1", "breast cancer", "Cystic fibrosis"), ("Gene", "Disease", "Disease"))
    words, tags = sample.tagged_words()
    assert words == ["BRCA1", ";", "breast", "cancer", ";", "Cystic", "fibrosis"]
    assert tags == ["O", "O", "B-Disease", "I-Disease", "O", "B-Disease", "I-Disease"]
    doc = sample.document()
    assert doc.text == SEPARATOR.join(sample.names)
    assert [(e.text, e.label) for e in doc.entities] == [("breast cancer", "Disease"), ("Cystic fibrosis", "Disease")]
    assert doc.sentences == ((0, len(doc.text)),)  # a name with a dot never splits the sentence


def test_for_an_encoder_names_of_its_other_labels_keep_their_label_and_unknown_types_are_o() -> None:
    sample = DenseSample("Disease", ("BRCA1", "asthma", "aspirin"), ("Gene", "Disease", "Chemical"))
    doc = sample.document(labels=LABELS)
    assert [(e.text, e.label) for e in doc.entities] == [("BRCA1", "Gene"), ("asthma", "Disease")]


def test_retrieved_samples_respect_the_counts_and_hold_only_knowledge_base_names() -> None:
    kb = kb_from_documents(TRAIN, "fixture/train")
    names = {(e.name, e.type) for e in kb}
    config = replace(RETRIEVED, positives=2, negatives=1)
    samples = dense_samples(TRAIN, LABELS, kb, config)
    assert samples
    for s in samples:
        wanted = sum(t == s.type for t in s.types)
        assert 1 <= wanted <= 2 and len(s.types) - wanted <= 1
        assert set(zip(s.names, s.types, strict=True)) <= names
        assert len({n.lower() for n in s.names}) == len(s.names)
    assert samples == dense_samples(TRAIN, LABELS, kb, config)  # seeded
    assert samples != dense_samples(TRAIN, LABELS, kb, replace(config, seed=99))


def test_retrieval_finds_names_near_the_sentence() -> None:
    kb = kb_from_documents(TRAIN, "fixture/train")
    first = [s for s in dense_samples(TRAIN, LABELS, kb, RETRIEVED) if s.source == f"{TRAIN[0].id}@0"]
    genes = {n for s in first for n, t in zip(s.names, s.types, strict=True) if t == "Gene"}
    assert {"BRCA1", "BRCA2"} <= genes  # both named in the first sentence


def test_random_mode_mirrors_retrieved_samples_with_random_names_and_off_makes_none() -> None:
    kb = kb_from_documents(TRAIN, "fixture/train")
    names_of = {t: {e.name for e in kb if e.type == t} for t in LABELS}
    retrieved = dense_samples(TRAIN, LABELS, kb, RETRIEVED)
    randomised = dense_samples(TRAIN, LABELS, kb, replace(RETRIEVED, mode="random"))
    # same sentences, wanted types and type composition: only the choice of names differs
    assert [(s.source, s.type, s.types) for s in randomised] == [(s.source, s.type, s.types) for s in retrieved]
    assert all(n in names_of[t] for s in randomised for n, t in zip(s.names, s.types, strict=True) if t in names_of)
    assert [s.names for s in randomised] != [s.names for s in retrieved]
    assert randomised == dense_samples(TRAIN, LABELS, kb, replace(RETRIEVED, mode="random"))  # seeded
    assert dense_samples(TRAIN, LABELS, kb, DbrConfig()) == []
    assert training_samples(TRAIN, LABELS, DbrConfig()) == []


def test_training_kb_merges_a_file_and_refuses_a_leaky_one() -> None:
    user = FIXTURES / "knowledge" / "user.tsv"
    kb = training_kb(TRAIN, replace(RETRIEVED, kb=str(user)))
    keys = {e.key for e in kb_from_documents(TRAIN, "x")} | {e.key for e in load_kb(user)}
    assert {e.key for e in kb} == keys and len(kb) == len(keys) < 21 + 5  # "BRCA1", "breast cancer" are in both
    with pytest.raises(BionerError, match="test split"):
        training_kb(TRAIN, replace(RETRIEVED, kb=str(FIXTURES / "knowledge" / "leaky.tsv")))
    with pytest.raises(BionerError, match="no such knowledge-base file"):
        training_kb(TRAIN, replace(RETRIEVED, kb="/nonexistent.tsv"))


def test_dense_documents_are_valid_documents_for_the_encoder_and_counted() -> None:
    report = Report()
    samples = training_samples(TRAIN, LABELS, RETRIEVED, report=report)
    docs = [sample.document(LABELS, f"dbr:{i}") for i, sample in enumerate(samples)]
    assert docs and len({d.id for d in docs}) == len(docs)
    assert report.warnings[f"{DENSE_ADDED} (retrieved)"] == len(docs)
    for doc in docs:
        assert {e.label for e in doc.entities} <= set(LABELS)
        assert doc.meta["dbr_type"] in LABELS


def test_llm_tagger_instances_name_only_the_type_and_tag_other_types_o() -> None:
    samples = dense_samples(TRAIN, LABELS, kb_from_documents(TRAIN, "x"), RETRIEVED)
    instances = [dense_instance(sample) for sample in samples]
    assert instances and len(instances) == len(samples)
    for inst, sample in zip(instances, samples, strict=True):
        assert inst.group == "dbr" and inst.label == sample.type
        assert sample.type in inst.instruction and "dataset" not in inst.instruction
        assert inst.tags.count("B") == sample.types.count(sample.type)
        first_words = [w for w, t in zip(inst.words, inst.tags, strict=True) if t == "B"]
        assert first_words == [
            n[slice(*tokenize(n)[0])] for n, t in zip(sample.names, sample.types, strict=True) if t == sample.type
        ]
