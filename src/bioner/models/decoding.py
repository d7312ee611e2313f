"""Constrained Viterbi decoding: the best tag sequence that is valid in its scheme.

Taking the arg-max tag of each token can produce ``O I-Disease`` or ``B-Gene I-Disease``,
which a reader must then repair by guessing. Decoding instead searches, on the
per-token log-probabilities, only the sequences whose transitions the scheme allows,
so every predicted sequence decodes to spans without repair.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bioner.schemes import SCHEMES
from bioner.views import split_tag


def allowed_transitions(
    tags: Sequence[str], scheme: str
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Masks of the tags a sequence may start with, follow each tag with, and end with.

    IOB2: ``I-X`` only after ``B-X`` or ``I-X``. IOBES: a mention is ``S-X`` or
    ``B-X I-X* E-X``, so ``I-X``/``E-X`` only continue an open ``X`` and an open
    mention must continue; a sequence cannot end inside a mention.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r}")
    rules = SCHEMES[scheme]
    parts = [split_tag(t) for t in tags]
    n = len(tags)
    start = np.array([rules.starts(prefix) for prefix, _ in parts], dtype=bool)
    end = np.array([rules.ends(prefix) for prefix, _ in parts], dtype=bool)
    trans = np.zeros((n, n), dtype=bool)
    for i, (p_prev, l_prev) in enumerate(parts):
        for j, (p_next, l_next) in enumerate(parts):
            trans[i, j] = rules.follows(p_prev, p_next, l_prev == l_next)
    return start, trans, end


@lru_cache(maxsize=16)
def _cached_transitions(
    tags: tuple[str, ...], scheme: str
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    start, trans, end = allowed_transitions(tags, scheme)
    return start, np.where(trans, 0.0, -np.inf), end


def viterbi(log_probs: npt.NDArray[np.floating], tags: Sequence[str], scheme: str) -> list[int]:
    """Indices into ``tags`` of the most probable valid sequence for ``log_probs`` (tokens × tags)."""
    n_tokens = log_probs.shape[0]
    if n_tokens == 0:
        return []
    if log_probs.shape[1] != len(tags):
        raise ValueError(f"{log_probs.shape[1]} score columns for {len(tags)} tags")
    return viterbi_batch([log_probs], tags, scheme)[0]


def viterbi_batch(
    log_probs: Sequence[npt.NDArray[np.floating]],
    tags: Sequence[str],
    scheme: str,
    chunk: int = 256,
    learned: npt.NDArray[np.float64] | None = None,
) -> list[list[int]]:
    """:func:`viterbi` of many sequences at once (the same paths, ties included), vectorised over sequences.

    Decoding sentence by sentence costs a Python loop per word of every sentence; here the
    loop runs once per position over a chunk of sequences of similar length, which matters
    when a GPU has made the scores in a fraction of that time. ``learned`` (tags × tags) adds a
    CRF's transition scores; the scheme's forbidden transitions stay forbidden.
    """
    if any(lp.ndim != 2 or lp.shape[1] != len(tags) for lp in log_probs):
        raise ValueError(f"every score matrix needs {len(tags)} columns, one per tag")
    start, transition, end = _cached_transitions(tuple(tags), scheme)
    if learned is not None:
        transition = transition + learned
    order = sorted(range(len(log_probs)), key=lambda i: log_probs[i].shape[0])
    paths: list[list[int]] = [[] for _ in log_probs]
    for first in range(0, len(order), chunk):
        members = [i for i in order[first : first + chunk] if log_probs[i].shape[0] > 0]
        if not members:
            continue
        lengths = np.array([log_probs[i].shape[0] for i in members])
        scores_in = np.zeros((len(members), int(lengths.max()), len(tags)), dtype=np.float64)
        for row, i in enumerate(members):
            scores_in[row, : lengths[row]] = log_probs[i]
        for row, path in enumerate(_viterbi_padded(scores_in, lengths, start, transition, end)):
            paths[members[row]] = path[: lengths[row]].tolist()
    return paths


def _viterbi_padded(
    log_probs: npt.NDArray[np.float64],
    lengths: npt.NDArray[np.int64],
    start: npt.NDArray[np.bool_],
    transition: npt.NDArray[np.float64],
    end: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Best paths of padded sequences (sequences × positions × tags); positions past a length are ignored."""
    n_seqs, n_positions, _ = log_probs.shape
    rows = np.arange(n_seqs)
    scores = np.where(start, log_probs[:, 0], -np.inf)
    back = np.zeros(log_probs.shape, dtype=np.int64)
    for t in range(1, n_positions):
        candidates = scores[:, :, None] + transition  # previous tag × next tag, per sequence
        back[:, t] = candidates.argmax(axis=1)
        moved = candidates.max(axis=1) + log_probs[:, t]
        scores = np.where((t < lengths)[:, None], moved, scores)  # a finished sequence keeps its last scores
    scores = np.where(end, scores, -np.inf)
    path = np.zeros((n_seqs, n_positions), dtype=np.int64)
    path[rows, lengths - 1] = scores.argmax(axis=1)
    for t in range(n_positions - 1, 0, -1):
        inside = t < lengths
        path[:, t - 1] = np.where(inside, back[rows, t, path[:, t]], path[:, t - 1])
    return path
