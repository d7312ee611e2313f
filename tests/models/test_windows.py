"""Windows over long sentences: every word covered, no window over budget, predictions merged by context."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bioner.models.windows import merge_windows, plan_windows


def test_a_sentence_that_fits_is_one_window() -> None:
    assert plan_windows([1, 2, 3], budget=6, overlap=2) == [(0, 3)]


def test_long_sentence_windows_overlap_by_whole_words() -> None:
    # 10 words of 1 sub-token, 4 per window, 2 shared: [0,4) [2,6) [4,8) [6,10)
    assert plan_windows([1] * 10, budget=4, overlap=2) == [(0, 4), (2, 6), (4, 8), (6, 10)]


def test_no_overlap_gives_adjacent_windows() -> None:
    assert plan_windows([2, 2, 2, 2, 2], budget=4, overlap=0) == [(0, 2), (2, 4), (4, 5)]


def test_overlap_never_leaves_the_next_word_out_of_the_next_window() -> None:
    # sharing word 1 would leave no room for the 6-piece word 2: no useless window [1, 2)
    assert plan_windows([1, 1, 6], budget=6, overlap=1) == [(0, 2), (2, 3)]


def test_a_word_over_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="more sub-tokens"):
        plan_windows([1, 9, 1], budget=4)


@given(
    lengths=st.lists(st.integers(1, 6), min_size=0, max_size=60),
    budget=st.integers(6, 20),
    overlap=st.integers(0, 10),
)
def test_windows_cover_every_word_within_budget(lengths: list[int], budget: int, overlap: int) -> None:
    windows = plan_windows(lengths, budget, overlap)
    covered = set()
    for start, end in windows:
        assert start < end
        assert sum(lengths[start:end]) <= budget
        covered.update(range(start, end))
    assert covered == set(range(len(lengths)))
    for (s1, e1), (s2, e2) in itertools.pairwise(windows):
        assert s1 < s2 <= e1 < e2  # forward progress, no gap
        assert sum(lengths[s2:e1]) <= overlap


def test_merge_takes_each_word_from_the_window_where_it_has_most_context() -> None:
    windows = [(0, 4), (2, 6)]
    first = np.full((4, 2), 1.0, dtype=np.float32)
    second = np.full((4, 2), 2.0, dtype=np.float32)
    merged = merge_windows(windows, [first, second], 6)
    # word 2: margin 1 in the first window (its right edge cuts at 4), 0 in the second -> first
    # word 3: margin 0 in the first, 1 in the second -> second
    assert merged[:, 0].tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]


def test_merge_refuses_uncovered_words_and_wrong_shapes() -> None:
    rows = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="without scores"):
        merge_windows([(0, 2)], [rows], 3)
    with pytest.raises(ValueError, match="rows of scores"):
        merge_windows([(0, 3)], [rows], 3)
