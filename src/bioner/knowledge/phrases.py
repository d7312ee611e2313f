"""Candidate phrases of a sentence: word n-grams scored for phrase quality on the training text.

In the spirit of AutoPhrase (Shang et al., 2018), without its distant supervision: an
n-gram of up to four words is a candidate when it crosses no punctuation (other than the
hyphens and slashes inside names), neither starts nor ends with a stop word, and occurs
often enough; its quality is the *concordance* of its words, the normalised pointwise
mutual information of its weakest binary split, computed from counts over the training
text. A single word is a candidate when it is not a stop word and looks like a term
(three characters or more, or a symbol with a digit or capital such as ``p53``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either et few for from further had has have
    having he her here hers him his how however i if in into is it its itself just may might more most much must
    my no nor not of off on once only or other our ours out over own per same she should so some such than that
    the their theirs them then there these they this those through thus to too under until up upon us very via
    was we were what when where whether which while who whom whose why will with within without would yet you
    your al fig figure table using used use study studies patient patients case cases result results method
    methods conclusion conclusions background objective one two three four five found shown showed show""".split()  # noqa: SIM905
)
"""English function words and boilerplate of abstracts; a phrase may not begin or end with one."""

_WORD = re.compile(r"[^\W_]+(?:[-/+'.][^\W_]+)*")
"""A word: letters and digits, with the hyphens, slashes, pluses, apostrophes and dots inside names
(``BRCA1-associated``, ``TNF-alpha/beta``, ``5'-UTR``); other punctuation and a trailing dot are not part of it."""


@dataclass(frozen=True)
class Phrase:
    start: int
    end: int
    text: str
    score: float


class PhraseMiner:
    """Counts n-grams over training text, then proposes scored candidate phrases for any sentence."""

    def __init__(self, max_words: int = 4, min_count: int = 1, min_quality: float = 0.3) -> None:
        self.max_words = max_words
        self.min_count = min_count
        self.min_quality = min_quality
        self.counts: Counter[tuple[str, ...]] = Counter()
        self.total = 0

    def fit(self, texts: Iterable[str]) -> PhraseMiner:
        """Count every word n-gram (up to ``max_words`` words) of ``texts``."""
        for text in texts:
            for run in _runs(text, 0, len(text)):
                words = [w for _, _, w in run]
                self.total += len(words)
                for n in range(1, self.max_words + 1):
                    for i in range(len(words) - n + 1):
                        self.counts[tuple(words[i : i + n])] += 1
        return self

    def quality(self, words: Sequence[str]) -> float:
        """Concordance times frequency confidence ``c / (c + 1)``, in [-1, 1).

        Concordance is the lowest normalised PMI over the binary splits of the n-gram (1 for
        one word); the confidence factor keeps n-grams seen once, whose PMI is inflated, from
        outranking repeated ones.
        """
        key = tuple(w.lower() for w in words)
        joint = self.counts.get(key, 0)
        if joint == 0 or self.total == 0:
            return -1.0
        return self._concordance(key, joint) * joint / (joint + 1)

    def _concordance(self, key: tuple[str, ...], joint: int) -> float:
        if len(key) == 1:
            return 1.0
        p_joint = joint / self.total
        worst = 1.0
        for cut in range(1, len(key)):
            p_left = self.counts.get(key[:cut], joint) / self.total
            p_right = self.counts.get(key[cut:], joint) / self.total
            pmi = math.log(p_joint / (p_left * p_right))
            npmi = pmi / -math.log(p_joint) if p_joint < 1 else 1.0
            worst = min(worst, npmi)
        return worst

    def mine(self, text: str, start: int = 0, end: int | None = None, limit: int = 0) -> list[Phrase]:
        """Candidate phrases of ``text[start:end]``, best first (``limit`` > 0 keeps that many)."""
        found: dict[tuple[int, int], Phrase] = {}
        for run in _runs(text, start, len(text) if end is None else end):
            for i in range(len(run)):
                for n in range(1, self.max_words + 1):
                    part = run[i : i + n]
                    if len(part) < n:
                        break
                    words = [w for _, _, w in part]
                    if not _good_edges(words) or (n > 1 and self.counts.get(tuple(words), 0) < self.min_count):
                        continue
                    score = self.quality(words)
                    if score >= self.min_quality:
                        s, e = part[0][0], part[-1][1]
                        found[(s, e)] = Phrase(s, e, text[s:e], score)
        ranked = sorted(found.values(), key=lambda p: (-p.score, -(p.end - p.start), p.start))
        return ranked[:limit] if limit > 0 else ranked


def _runs(text: str, start: int, end: int) -> list[list[tuple[int, int, str]]]:
    """Stretches of words (lower-cased) separated only by whitespace; any other character between words ends one."""
    runs: list[list[tuple[int, int, str]]] = []
    previous = -1
    for match in _WORD.finditer(text, start, end):
        s, e = match.span()
        if not runs or text[previous:s].strip():
            runs.append([])
        runs[-1].append((s, e, text[s:e].lower()))
        previous = e
    return runs


def _good_edges(words: Sequence[str]) -> bool:
    first, last = words[0], words[-1]
    if first in STOP_WORDS or last in STOP_WORDS:
        return False
    if len(words) == 1:
        return not first.isdigit() and (len(first) >= 3 or any(c.isdigit() for c in first))
    return not all(w.isdigit() for w in words)
