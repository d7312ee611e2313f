"""Alignment: every span is a real character span whose text is the text's; nothing invented."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bioner.errors import Report
from bioner.prompting.align import LOOSE, UNALIGNED, align
from bioner.prompting.parse import Mention


def test_every_occurrence_unless_the_answer_names_one() -> None:
    text = "BRCA1 and brca1 and BRCA1."
    assert [e.start for e in align(text, [Mention("BRCA1", "Gene")], Report())] == [0, 20]
    assert [e.start for e in align(text, [Mention("BRCA1", "Gene", occurrence=2)], Report())] == [20]


def test_loose_match_and_unaligned_counted() -> None:
    report = Report()
    found = align("the Breast\n cancer gene", [Mention("breast cancer", "Disease"), Mention("p53", "Gene")], report)
    assert [(e.start, e.end, e.text) for e in found] == [(4, 18, "Breast\n cancer")]
    assert report.warnings[LOOSE] == 1 and report.warnings[UNALIGNED] == 1


def test_no_match_inside_a_word() -> None:
    assert align("CAT catalase", [Mention("cat", "Gene")], Report())[0].start == 0
    assert align("catalase", [Mention("cat", "Gene")], Report()) == []


@given(st.text(max_size=60), st.lists(st.text(min_size=1, max_size=8), max_size=5), st.integers(0, 50))
def test_spans_are_valid_and_match_the_text(text: str, mentions: list[str], offset: int) -> None:
    padded = " " * offset + text
    entities = align(text, [Mention(m, "X") for m in mentions], Report(), offset=offset)
    for e in entities:
        assert 0 <= e.start < e.end <= len(padded)
        assert padded[e.start : e.end] == e.text
        assert any(e.text.casefold().split() == m.casefold().split() for m in mentions)
    assert all(a.end <= b.start for a, b in itertools.pairwise(entities))
