"""Document -> BIO/IOBES -> Document: lossless for flat token-aligned entities, and the losses counted otherwise."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioner.errors import Report
from bioner.text import tokenize
from bioner.types import Document, Entity, entity_at
from bioner.views import TokenView, convert_tags, decode, decode_document, encode, flatten, sentence_views, split_tag

WORD = st.text(alphabet="abñé0", min_size=1, max_size=4)
LABELS = st.sampled_from(["Gene", "Disease"])


@st.composite
def documents(draw: st.DrawFn, nested: bool) -> Document:
    words = draw(st.lists(WORD, min_size=1, max_size=12))
    text = " ".join(words)
    tokens = tokenize(text)
    entities: list[Entity] = []
    i = 0
    while i < len(tokens):
        length = draw(st.integers(0, 3))
        if length and i + length <= len(tokens):
            s, e = tokens[i][0], tokens[i + length - 1][1]
            entities.append(entity_at(text, s, e, draw(LABELS)))
            if nested and draw(st.booleans()):
                inner = tokens[i + draw(st.integers(0, length - 1))]
                entities.append(entity_at(text, inner[0], inner[1], draw(LABELS)))
            i += length
        else:
            i += 1
    return Document("d", text, tuple(entities))


@settings(max_examples=150, deadline=None)
@given(documents(nested=False), st.sampled_from(["IOB2", "IOBES"]))
def test_flat_entities_survive_encoding_and_decoding(doc: Document, scheme: str) -> None:
    report = Report()
    views = sentence_views(doc, scheme, report=report)
    assert decode_document(doc, views, report) == doc
    assert not report


@settings(max_examples=150, deadline=None)
@given(documents(nested=True), st.sampled_from(["IOB2", "IOBES"]))
def test_nested_entities_are_dropped_and_counted_exactly(doc: Document, scheme: str) -> None:
    report = Report()
    view = encode(doc, scheme, report=report)
    kept, dropped = flatten(doc.entities)
    assert sorted(view.to_entities(doc.text)) == sorted(kept)
    assert report.losses["nested or overlapping entities"] == len(dropped)
    assert set(report.losses) <= {"nested or overlapping entities"}


def test_encode_cuts_tokens_at_entity_boundaries_and_counts_whitespace_edges() -> None:
    text = "PAX6gene and  BRCA1 "
    doc = Document("d", text, (entity_at(text, 0, 4, "Gene"), entity_at(text, 12, 20, "Gene")))
    report = Report()
    view = encode(doc, "IOBES", report=report)
    assert [text[s:e] for s, e in view.tokens] == ["PAX6", "gene", "and", "BRCA1"]
    assert view.tags == ("S-Gene", "O", "O", "S-Gene")
    assert report.losses == {"entities with whitespace at an edge (trimmed to their tokens)": 1}


def test_encode_counts_entities_crossing_the_region_and_covering_no_token() -> None:
    text = "One two. Three four."
    doc = Document("d", text, (entity_at(text, 4, 14, "X"), entity_at(text, 8, 9, "Y")))
    report = Report()
    encode(doc, region=(0, 8), report=report)
    encode(doc, region=(8, 20), report=report)
    assert report.losses == {"entities crossing a sentence or window boundary": 2, "entities covering no token": 1}


def test_decode_reads_invalid_transitions_as_starts_and_counts_them() -> None:
    text = "a b c d"
    tokens = [(0, 1), (2, 3), (4, 5), (6, 7)]
    report = Report()
    entities = decode(tokens, ["I-X", "I-Y", "O", "I-X"], text, "IOB2", report)
    assert [(e.span, e.label) for e in entities] == [((0, 1), "X"), ((2, 3), "Y"), ((6, 7), "X")]
    assert report.warnings["invalid tag transitions (read as mention starts)"] == 3


def test_decode_iobes_and_scores() -> None:
    text = "a b c d"
    tokens = [(0, 1), (2, 3), (4, 5), (6, 7)]
    entities = decode(tokens, ["B-X", "E-X", "S-Y", "O"], text, "IOBES", scores=[0.5, 1.0, 0.25, 0.0])
    assert [(e.text, e.label, e.score) for e in entities] == [("a b", "X", 0.75), ("c", "Y", 0.25)]
    with pytest.raises(ValueError, match="not part of the IOB2 scheme"):
        decode(tokens, ["S-X", "O", "O", "O"], text, "IOB2")


def test_tags_and_views_reject_malformed_input() -> None:
    assert split_tag("B-Gene") == ("B", "Gene") and split_tag("O") == ("O", "")
    for bad in ("B_Gene", "X-Gene", "B-", "Gene"):
        with pytest.raises(ValueError, match="malformed tag"):
            split_tag(bad)
    with pytest.raises(ValueError, match="1 tokens but 2 tags"):
        TokenView(((0, 1),), ("O", "O"))
    with pytest.raises(ValueError, match="unknown tag scheme"):
        TokenView((), (), "BILOU")


def test_convert_tags_between_schemes() -> None:
    iob2 = ["B-X", "I-X", "I-X", "O", "B-Y", "B-Y"]
    iobes = ["B-X", "I-X", "E-X", "O", "S-Y", "S-Y"]
    assert convert_tags(iob2, "IOBES") == iobes
    assert convert_tags(iobes, "IOB2") == iob2
