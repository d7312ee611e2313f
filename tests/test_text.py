from collections.abc import Callable
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from bioner.text import document_sentences, split_sentences, tokenize, whitespace_tokenize
from bioner.types import Document, Passage, Span, entity_at

Tokenizer = Callable[[str], list[Span]]


def words(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in spans]


def test_tokenize_splits_punctuation_and_keeps_offsets() -> None:
    text = "Mutación c.35delG (GJB2) en 30°C α-sinucleína."
    assert words(text, tokenize(text)) == [
        "Mutación", "c", ".", "35delG", "(", "GJB2", ")", "en", "30", "°", "C", "α", "-", "sinucleína", ".",
    ]  # fmt: skip


def test_tokenize_cuts_at_requested_offsets_and_within_a_region() -> None:
    text = "PAX6gene causes aniridia"
    assert words(text, tokenize(text, split_at=[4])) == ["PAX6", "gene", "causes", "aniridia"]
    assert tokenize(text, start=2, end=12) == [(2, 8), (9, 12)]  # region edges cut tokens
    assert tokenize(text, split_at=[0, 24, 99]) == tokenize(text)  # cuts at edges change nothing


def test_whitespace_tokenize_keeps_punctuation_inside_tokens() -> None:
    text = "IL-2 gene ( NF-kB ) ."
    assert words(text, whitespace_tokenize(text)) == ["IL-2", "gene", "(", "NF-kB", ")", "."]
    assert words(text, whitespace_tokenize(text, split_at=[2])) == ["IL", "-2", "gene", "(", "NF-kB", ")", "."]


def test_whitespace_tokenize_respects_a_region_starting_inside_a_token() -> None:
    assert whitespace_tokenize("abc def ghi", start=1, end=9) == [(1, 3), (4, 7), (8, 9)]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab1 ñ.-\n\t(", max_size=40), st.sampled_from([tokenize, whitespace_tokenize]))
def test_tokens_are_ordered_visible_and_cover_every_visible_character(text: str, tokenizer: Tokenizer) -> None:
    spans = tokenizer(text)
    covered = {i for s, e in spans for i in range(s, e)}
    assert covered == {i for i, c in enumerate(text) if not c.isspace()}
    assert all(a[1] <= b[0] for a, b in pairwise(spans))


def test_split_sentences_knows_abbreviations_initials_and_line_breaks() -> None:
    text = "Mutations (e.g. c.35delG) cause deafness. E. coli was used. Dr. Smith agreed! 3 cases.\nNew line"
    assert words(text, split_sentences(text)) == [
        "Mutations (e.g. c.35delG) cause deafness.",
        "E. coli was used.",
        "Dr. Smith agreed!",
        "3 cases.",
        "New line",
    ]


def test_split_sentences_needs_a_capital_after_the_stop_and_never_cuts_an_entity() -> None:
    text = "Dose was 3.5 mg. then stopped. Gene X. Y protein binds."
    assert words(text, split_sentences(text)) == ["Dose was 3.5 mg. then stopped.", "Gene X. Y protein binds."]
    plain = "It binds. Next one."
    entity = entity_at(plain, 3, 13, "X")  # "binds. Nex" crosses the stop
    assert split_sentences(plain, [entity]) == [(0, 19)]
    assert split_sentences(plain) == [(0, 9), (10, 19)]


def test_split_sentences_in_a_region_strips_whitespace() -> None:
    text = "  One. Two.  "
    assert split_sentences(text) == [(2, 6), (7, 11)]
    assert split_sentences(text, start=7, end=13) == [(7, 11)]
    assert split_sentences("   ") == []


def test_document_sentences_prefers_the_documents_own() -> None:
    doc = Document("d", "One two. Three.", sentences=((0, 15),))
    assert document_sentences(doc) == [(0, 15)]


def test_document_sentences_split_passages_and_text_between_them() -> None:
    text = "A title without a stop Body one. Body two. Tail text"
    doc = Document(
        "d", text, passages=(Passage(0, "A title without a stop", "title"), Passage(23, "Body one. Body two."))
    )
    assert words(text, document_sentences(doc)) == [
        "A title without a stop",
        "Body one.",
        "Body two.",
        "Tail text",  # outside every passage, still a sentence
    ]


def test_document_sentences_merge_across_a_passage_boundary_an_entity_crosses() -> None:
    text = "Title part body part."
    doc = Document(
        "d",
        text,
        (entity_at(text, 6, 15, "X"),),
        passages=(Passage(0, "Title part"), Passage(11, "body part.")),
    )
    assert document_sentences(doc) == [(0, 21)]
