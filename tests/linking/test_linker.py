"""The linker on documents: abbreviations, composite mentions, the NIL threshold, uncovered labels."""

from __future__ import annotations

import pytest

from bioner.errors import BionerError, Report
from bioner.linking.index import LinkIndex
from bioner.linking.linker import LINK_SCORE, LinkConfig, Linker, saved_link_config
from bioner.types import Document, Entity, entity_at


def _doc(text: str, *spans: tuple[str, str]) -> Document:
    entities = []
    for mention, label in spans:
        start = text.index(mention) if mention != "AT" else text.rindex(mention)
        entities.append(entity_at(text, start, start + len(mention), label))
    return Document("d", text, tuple(entities))


def _linked(index: LinkIndex, doc: Document, **config: object) -> list[Entity]:
    return list(Linker(index, LinkConfig(alpha=1.0, **config)).link([doc])[0].entities)  # type: ignore[arg-type]


def test_a_short_form_takes_its_long_forms_concept(sparse_index: LinkIndex) -> None:
    doc = _doc("Children with ataxia telangiectasia (AT) were seen. AT is rare.", ("AT", "Disease"))
    [with_abbreviations] = _linked(sparse_index, doc)
    assert with_abbreviations.id == "D001260"
    assert float(with_abbreviations.attr(LINK_SCORE) or 0) > 0.9
    [without] = _linked(sparse_index, doc, abbreviations=False)
    assert without.id != "D001260"


def test_a_composite_mention_gets_every_parts_concept(sparse_index: LinkIndex) -> None:
    doc = _doc("Risk of breast and ovarian cancer rises.", ("breast and ovarian cancer", "Disease"))
    [entity] = _linked(sparse_index, doc)
    assert entity.id == "D001943|D010051"
    [whole] = _linked(sparse_index, doc, composite=False)
    assert whole.id != "D001943|D010051" or whole.attr("link_name") == "breast and ovarian cancers"


def test_a_vocabulary_name_with_a_coordination_stays_one_concept(sparse_index: LinkIndex) -> None:
    doc = _doc("Louis-Bar syndrome and more.", ("Louis-Bar syndrome", "Disease"))
    [entity] = _linked(sparse_index, doc)
    assert entity.id == "D001260"


def test_a_poor_best_candidate_leaves_the_mention_nil(sparse_index: LinkIndex) -> None:
    doc = _doc("A case of zxqv.", ("zxqv", "Disease"))
    report = Report()
    [nil] = Linker(sparse_index, LinkConfig(alpha=1.0, threshold=0.5)).link([doc], report)[0].entities
    assert nil.id is None and float(nil.attr(LINK_SCORE) or 1) < 0.5
    assert report.warnings["mentions left unlinked (NIL: best link scored under 0.5)"] == 1
    [forced] = _linked(sparse_index, doc, threshold=-1.0)
    assert forced.id is not None


def test_mentions_of_labels_the_index_lacks_stay_as_they_were(sparse_index: LinkIndex) -> None:
    doc = _doc("Mice and myeloma.", ("Mice", "Species"), ("myeloma", "Disease"))
    report = Report()
    species, disease = Linker(sparse_index, LinkConfig(alpha=1.0)).link([doc], report)[0].entities
    assert species == doc.entities[0] and disease.id == "D009101"
    assert report.warnings["mentions of labels the link index has no vocabulary for (left as they were)"] == 1


def test_dense_linking_needs_an_index_with_vectors(sparse_index: LinkIndex) -> None:
    sparse_index.embedding_model, model = None, sparse_index.embedding_model
    try:
        with pytest.raises(BionerError, match=r"alpha = 1"):
            Linker(sparse_index, LinkConfig(alpha=0.5))
    finally:
        sparse_index.embedding_model = model
    with pytest.raises(BionerError, match=r"link.alpha"):
        Linker(sparse_index, LinkConfig(alpha=2.0))


def test_a_saved_link_table_is_read_only_when_it_names_an_index() -> None:
    assert saved_link_config({"link": {"threshold": 0.3}}, "config.toml") is None
    config = saved_link_config({"link": {"index": "/x", "alpha": 1}}, "config.toml")
    assert config is not None and config.index == "/x" and config.alpha == 1.0
    with pytest.raises(BionerError, match=r"unknown config key 'link\.alfa'"):
        saved_link_config({"link": {"index": "/x", "alfa": 1}}, "config.toml")
