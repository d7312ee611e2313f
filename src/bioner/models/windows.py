"""Windows over sentences longer than a model's input, and the merge of their predictions.

Truncating at the model's maximum length silently drops the end of long sentences
(the bug users filed against GLiNER and transformers' run_ner). Instead, a long
sentence is cut into windows of whole words that overlap by some sub-tokens; each
word then takes its scores from the window where it sits farthest from an edge,
where it saw the most context. Every backend shares this, whatever its sub-tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Window = tuple[int, int]
"""A half-open range ``[start, end)`` of word indices."""


def plan_windows(lengths: Sequence[int], budget: int, overlap: int = 0) -> list[Window]:
    """Word ranges covering every word, each holding at most ``budget`` sub-tokens.

    ``lengths`` are the sub-token counts of the words (each at most ``budget``; cap
    longer words first). Consecutive windows share the last words of the previous
    window that fit in ``overlap`` sub-tokens, and each window reaches past the last.
    """
    if budget < 1:
        raise ValueError(f"window budget must be positive, got {budget}")
    if any(n > budget for n in lengths):
        raise ValueError(f"a word has more sub-tokens than the window holds ({budget})")
    n = len(lengths)
    windows: list[Window] = []
    start = 0
    while start < n:
        end, used = start, 0
        while end < n and used + lengths[end] <= budget:
            used += lengths[end]
            end += 1
        windows.append((start, end))
        if end == n:
            break
        next_start, shared = end, 0
        room = min(overlap, budget - lengths[end])  # the next window must reach past this one
        while next_start - 1 > start and shared + lengths[next_start - 1] <= room:
            next_start -= 1
            shared += lengths[next_start]
        start = next_start
    return windows


def merge_windows(
    windows: Sequence[Window], scores: Sequence[npt.NDArray[np.float32]], n_words: int
) -> npt.NDArray[np.float32]:
    """One row of scores per word, from the window where the word has the most context.

    A word's context in a window is its distance to the nearer window edge that cuts
    the sentence (a sentence's own start and end cut nothing).
    ``scores[i]`` holds one row per word of ``windows[i]``. Ties go to the earlier window,
    so the result does not depend on anything but the windows.
    """
    if not windows:
        return np.zeros((n_words, 0), dtype=np.float32)
    width = scores[0].shape[1]
    merged = np.zeros((n_words, width), dtype=np.float32)
    best = np.full(n_words, -1, dtype=np.int64)
    for (start, end), rows in zip(windows, scores, strict=True):
        if rows.shape[0] != end - start:
            raise ValueError(f"window [{start}, {end}) has {rows.shape[0]} rows of scores")
        index = np.arange(start, end)
        left = index - start if start > 0 else np.full(end - start, n_words)
        right = end - 1 - index if end < n_words else np.full(end - start, n_words)
        margin = np.minimum(left, right)
        better = margin > best[start:end]
        merged[index[better]] = rows[better]
        best[index[better]] = margin[better]
    if (best < 0).any():
        raise ValueError(f"windows leave {int((best < 0).sum())} of {n_words} words without scores")
    return merged
