"""Constrained Viterbi: only valid tag sequences, and the best of them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bioner.errors import Report
from bioner.models.decoding import allowed_transitions, viterbi, viterbi_batch
from bioner.views import decode

IOB2 = ["O", "B-Gene", "I-Gene", "B-Disease", "I-Disease"]
IOBES = ["O", "B-Gene", "I-Gene", "E-Gene", "S-Gene"]


def _valid(tags: list[str], scheme: str) -> bool:
    report = Report()
    decode([(i, i + 1) for i in range(len(tags))], tags, " " * len(tags), scheme, report)
    if scheme == "IOBES":  # decode reads a dangling B/I as a mention; the scheme forbids it
        for prev, nxt in zip(tags, [*tags[1:], "O"], strict=True):
            if prev[0] in "BI" and (nxt[0] not in "IE" or nxt[2:] != prev[2:]):
                return False
    return not report.warnings


def test_iob2_transitions() -> None:
    start, trans, end = allowed_transitions(IOB2, "IOB2")
    idx = {t: i for i, t in enumerate(IOB2)}
    assert start.tolist() == [True, True, False, True, False]
    assert trans[idx["B-Gene"], idx["I-Gene"]] and trans[idx["I-Gene"], idx["I-Gene"]]
    assert not trans[idx["O"], idx["I-Gene"]]
    assert not trans[idx["B-Gene"], idx["I-Disease"]]
    assert end.all()


def test_iobes_transitions() -> None:
    start, trans, end = allowed_transitions(IOBES, "IOBES")
    idx = {t: i for i, t in enumerate(IOBES)}
    assert start.tolist() == [True, True, False, False, True]
    assert not trans[idx["B-Gene"], idx["O"]]  # an open mention must continue
    assert trans[idx["B-Gene"], idx["E-Gene"]] and trans[idx["I-Gene"], idx["I-Gene"]]
    assert trans[idx["E-Gene"], idx["S-Gene"]] and not trans[idx["S-Gene"], idx["I-Gene"]]
    assert end.tolist() == [True, False, False, True, True]


def test_viterbi_repairs_what_argmax_gets_wrong() -> None:
    # argmax would say O I-Gene I-Gene: invalid; the best valid path starts the mention with B
    log_probs = np.log(np.array([[0.9, 0.05, 0.05, 0, 0], [0.1, 0.4, 0.5, 0, 0], [0.1, 0.1, 0.8, 0, 0]]) + 1e-9)
    path = [IOB2[i] for i in viterbi(log_probs, IOB2, "IOB2")]
    assert path == ["O", "B-Gene", "I-Gene"]


def test_viterbi_keeps_a_valid_argmax() -> None:
    log_probs = np.log(np.array([[0.1, 0.8, 0.1, 0, 0], [0.1, 0.1, 0.8, 0, 0], [0.8, 0.1, 0.1, 0, 0]]) + 1e-9)
    assert viterbi(log_probs, IOB2, "IOB2") == [1, 2, 0]


def test_viterbi_checks_its_input() -> None:
    assert viterbi(np.zeros((0, 5)), IOB2, "IOB2") == []
    with pytest.raises(ValueError, match="score columns"):
        viterbi(np.zeros((2, 3)), IOB2, "IOB2")


@settings(max_examples=60, deadline=None)
@given(
    scheme=st.sampled_from(["IOB2", "IOBES"]),
    log_probs=arrays(np.float64, st.tuples(st.integers(1, 4), st.just(5)), elements=st.floats(-8, 0)),
)
def test_viterbi_finds_the_best_valid_sequence(scheme: str, log_probs: np.ndarray) -> None:
    tags = IOB2 if scheme == "IOB2" else IOBES
    path = viterbi(log_probs, tags, scheme)
    assert _valid([tags[i] for i in path], scheme)
    best = max(
        sum(log_probs[t, i] for t, i in enumerate(seq))
        for seq in itertools.product(range(len(tags)), repeat=len(log_probs))
        if _valid([tags[i] for i in seq], scheme)
    )
    assert sum(log_probs[t, i] for t, i in enumerate(path)) == pytest.approx(best)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=12),
    st.sampled_from([("IOB2", IOB2), ("IOBES", IOBES)]),
    st.integers(min_value=0, max_value=2**31),
    st.integers(min_value=1, max_value=5),
)
def test_batched_viterbi_gives_the_paths_of_one_sequence_at_a_time(
    lengths: list[int], scheme_tags: tuple[str, list[str]], seed: int, chunk: int
) -> None:
    scheme, tags = scheme_tags
    rng = np.random.default_rng(seed)
    # coarse scores make ties, which both must break the same way
    sequences = [np.log(rng.integers(1, 4, size=(n, len(tags))) / 4.0) for n in lengths]
    assert viterbi_batch(sequences, tags, scheme, chunk=chunk) == [viterbi(s, tags, scheme) for s in sequences]


def test_batched_viterbi_checks_the_score_columns() -> None:
    with pytest.raises(ValueError, match="5 columns"):
        viterbi_batch([np.zeros((2, 3))], IOB2, "IOB2")
