import pytest

from bioner.types import Corpus, Document, Entity, Passage, entity_at, make_attrs, nested_or_overlapping

TEXT = "La mutación de BRCA1 causa cáncer de mama."


def test_entity_at_reads_its_text_and_entities_are_sorted_so_order_does_not_matter() -> None:
    gene = entity_at(TEXT, 15, 20, "Gene", id="672")
    disease = entity_at(TEXT, 27, 41, "Disease")
    assert gene.text == "BRCA1" and disease.text == "cáncer de mama"
    a = Document("d", TEXT, (disease, gene))
    b = Document("d", TEXT, (gene, disease))
    assert a == b and a.entities == (gene, disease)
    assert a.labels() == {"Gene", "Disease"}


def test_entity_helpers() -> None:
    e = Entity(2, 5, "X", "abc", attrs=make_attrs({"z": "1"}, a="2"))
    assert e.attrs == (("a", "2"), ("z", "1"))
    assert e.attr("z") == "1" and e.attr("missing") is None and e.attr("missing", "d") == "d"
    assert e.span == (2, 5) and e.shifted(3).span == (5, 8)
    assert e.overlaps((4, 9)) and not e.overlaps((5, 9)) and not e.overlaps(Entity(0, 2, "X", "ab"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"entities": (Entity(15, 99, "Gene", "BRCA1"),)}, r"entity Gene \[15, 99\) is out of range"),
        ({"entities": (Entity(5, 5, "Gene", ""),)}, "out of range"),
        ({"entities": (Entity(-1, 2, "Gene", "La"),)}, "out of range"),
        ({"entities": (Entity(15, 20, "Gene", "BRCA2"),)}, "text 'BRCA2' differs from the document text 'BRCA1'"),
        ({"passages": (Passage(2, "mutación", "title"),)}, "passage title at offset 2 does not match"),
        ({"passages": (Passage(-1, "", "x"),)}, "passage x at offset -1"),
        ({"sentences": ((10, 20), (0, 5))}, r"sentence \[0, 5\) is out of order"),
        ({"sentences": ((0, 99),)}, "out of order or out of range"),
        ({"sentences": ((3, 3),)}, "out of order or out of range"),
    ],
)
def test_documents_validate_every_offset(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Document("d", TEXT, **kwargs)  # type: ignore[arg-type]


def test_valid_passages_and_sentences_are_accepted() -> None:
    doc = Document("d", TEXT, passages=(Passage(0, TEXT[:20], "title"),), sentences=[(0, 20), (21, 42)])  # type: ignore[arg-type]
    assert doc.sentences == ((0, 20), (21, 42)) and doc.problem() is None


def test_nested_and_crossing_counts() -> None:
    outer = entity_at(TEXT, 27, 41, "Disease")
    inner = entity_at(TEXT, 37, 41, "Anatomy")
    crossing_a = entity_at(TEXT, 3, 14, "X")
    crossing_b = entity_at(TEXT, 12, 20, "Y")
    same_span = entity_at(TEXT, 27, 41, "Phenotype")
    assert nested_or_overlapping([outer, inner]) == (1, 0)
    assert nested_or_overlapping([crossing_a, crossing_b]) == (0, 2)
    assert nested_or_overlapping([outer, same_span]) == (1, 0)  # identical spans: one counts as nested
    assert nested_or_overlapping([inner, outer, crossing_a]) == nested_or_overlapping([crossing_a, outer, inner])


def test_corpus_labels_and_splits() -> None:
    doc = Document("d", TEXT, (entity_at(TEXT, 15, 20, "Gene"), entity_at(TEXT, 27, 41, "Disease")))
    corpus = Corpus("tiny", {"train": [doc], "test": []})
    assert corpus.all_labels() == ("Disease", "Gene")
    assert corpus["train"] == [doc]
    assert Corpus("named", {}, labels=("Z",)).all_labels() == ("Z",)
