"""The tagging head: first / mean sub-token pooling, and the CRF's likelihood and transitions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from bioner.models.decoding import allowed_transitions, viterbi_batch
from bioner.models.head import Crf, WordHead

TAGS = ("O", "B-X", "I-X")


def test_mean_pooling_averages_each_words_sub_tokens_and_first_pooling_takes_the_first() -> None:
    hidden = torch.arange(2 * 6 * 2, dtype=torch.float32).reshape(2, 6, 2)
    word_index = torch.tensor([[1, 2], [1, 4]])
    word_end = torch.tensor([[2, 5], [4, 5]])  # row 0: words of 1 and 3 sub-tokens; row 1: 3 and 1
    for pooling, expected in [
        ("mean", torch.stack([hidden[0, 1], hidden[0, 2:5].mean(0), hidden[1, 1:4].mean(0), hidden[1, 4]])),
        ("first", torch.stack([hidden[0, 1], hidden[0, 2], hidden[1, 1], hidden[1, 4]])),
    ]:
        head = WordHead(2, 2, dropout=0.0, pooling=pooling)
        with torch.no_grad():
            head.linear.weight.copy_(torch.eye(2))
            head.linear.bias.zero_()
        assert torch.allclose(head(hidden, word_index, word_end).reshape(4, 2), expected)
    with pytest.raises(ValueError, match="pooling"):
        WordHead(2, 2, pooling="max")


def _brute_force_nll(crf: Crf, emissions: torch.Tensor, gold: list[int]) -> float:
    """-log p(gold) by summing over every tag sequence (forbidden transitions scored as the CRF blocks them)."""
    trans = crf.scores()

    def score(path: tuple[int, ...]) -> torch.Tensor:
        total = emissions[0, path[0]]
        for t in range(1, len(path)):
            total = total + trans[path[t - 1], path[t]] + emissions[t, path[t]]
        return total

    paths = list(itertools.product(range(len(TAGS)), repeat=emissions.size(0)))
    log_z = torch.logsumexp(torch.stack([score(p) for p in paths]), dim=0)
    return float((log_z - score(tuple(gold))).detach())


def test_the_crf_likelihood_is_the_exact_one_and_ignores_padding() -> None:
    torch.manual_seed(0)
    crf = Crf(allowed_transitions(TAGS, "IOB2")[1])
    with torch.no_grad():
        crf.transitions.normal_()
    emissions = torch.randn(2, 4, 3)
    labels = torch.tensor([[1, 2, 0, 1], [0, 1, 2, -100]])  # the second sequence has 3 words
    expected = (
        _brute_force_nll(crf, emissions[0], [1, 2, 0, 1]) + _brute_force_nll(crf, emissions[1, :3], [0, 1, 2])
    ) / 2
    assert float(crf.loss(emissions, labels).detach()) == pytest.approx(expected, rel=1e-5)
    # a gold path through a forbidden transition (O -> I-X) costs at least the block
    assert float(crf.loss(emissions[:1, :2], torch.tensor([[0, 2]])).detach()) > 1e3


def test_learned_transitions_steer_viterbi_but_never_open_a_forbidden_one() -> None:
    log_probs = np.log(np.array([[0.1, 0.6, 0.3], [0.1, 0.45, 0.45]]))
    assert viterbi_batch([log_probs], TAGS, "IOB2") == [[1, 1]]
    learned = np.zeros((3, 3))
    learned[1, 2] = 1.0  # B-X -> I-X made likely
    assert viterbi_batch([log_probs], TAGS, "IOB2", learned=learned) == [[1, 2]]
    learned = np.full((3, 3), -5.0)
    learned[0, 2] = 50.0  # O -> I-X is forbidden whatever was learned
    path = viterbi_batch([np.log(np.array([[0.9, 0.05, 0.05], [0.05, 0.05, 0.9]]))], TAGS, "IOB2", learned=learned)[0]
    assert (path[0], path[1]) != (0, 2)
