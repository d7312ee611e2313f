"""The parser on recorded Gemma 270M output and hand-written hostile answers: no crash, every problem counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.errors import Report
from bioner.prompting.parse import DUPLICATE, OUTSIDE, UNREADABLE, parse_answer

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = ["Gene", "Disease"]
HOSTILE = json.loads((FIXTURES / "hostile.json").read_text())


@pytest.mark.parametrize("case", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_answers_yield_what_can_be_read(case: dict[str, object]) -> None:
    report = Report()
    mentions = parse_answer(str(case["answer"]), LABELS, report)
    assert [[m.text, m.label] for m in mentions] == case["mentions"]


def test_recorded_gemma_answer_is_counted_unreadable() -> None:
    report = Report()
    answer = (FIXTURES / "gemma270m_tmvar3_zero_shot.txt").read_text()
    assert parse_answer(answer, LABELS, report) == []
    assert report.warnings[UNREADABLE] == 1


def test_duplicates_and_stray_labels_are_counted() -> None:
    report = Report()
    parse_answer(HOSTILE[3]["answer"], LABELS, report)
    assert report.warnings[DUPLICATE] == 1
    assert report.losses[OUTSIDE] == 1
