"""Offsets recovered: each mention found in the text, exactly, then ignoring case and whitespace.

A mention that occurs several times yields every occurrence unless the answer names one; a
match that starts or ends inside a word is not a mention. What cannot be found is counted,
never invented, so every span returned is a real ``[start, end)`` span whose text is the text's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bioner.errors import Report
from bioner.prompting.parse import Mention
from bioner.types import Entity

EXACT = "mentions aligned exactly"
LOOSE = "mentions aligned ignoring case and whitespace"
UNALIGNED = "mentions not found in the text (no span made)"
MISSING_OCCURRENCE = "mentions whose stated occurrence is past the last one (every occurrence kept)"
OVERLAPS = "aligned spans overlapping a longer one (dropped: flat output)"


def align(text: str, mentions: Sequence[Mention], report: Report, offset: int = 0) -> list[Entity]:
    """Flat entities for ``mentions`` in ``text`` (offsets shifted by ``offset``), longest first on overlap."""
    found: list[tuple[int, int, str]] = []
    for mention in mentions:
        spans = _occurrences(text, mention.text, exact=True)
        if spans:
            report.warn(EXACT)
        else:
            spans = _occurrences(text, mention.text, exact=False)
            report.warn(LOOSE if spans else UNALIGNED)
        if mention.occurrence is not None and spans:
            if mention.occurrence <= len(spans):
                spans = [spans[mention.occurrence - 1]]
            else:
                report.warn(MISSING_OCCURRENCE)
        found += [(s, e, mention.label) for s, e in spans]
    kept: list[tuple[int, int, str]] = []
    for s, e, label in sorted(set(found), key=lambda x: (x[0] - x[1], x[0], x[2])):
        if any(s < ke and ks < e for ks, ke, _ in kept):
            report.lose(OVERLAPS)
        else:
            kept.append((s, e, label))
    return [Entity(s + offset, e + offset, label, text[s:e]) for s, e, label in sorted(kept)]


def _occurrences(text: str, mention: str, *, exact: bool) -> list[tuple[int, int]]:
    """Every non-overlapping match of ``mention`` that does not cut a word."""
    words = mention.split()
    if not words:
        return []
    if exact:
        pattern = re.compile(re.escape(mention.strip()))
    else:
        pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    return [m.span() for m in pattern.finditer(text) if _whole(text, m.start(), m.end())]


def _whole(text: str, start: int, end: int) -> bool:
    """No word continues across either edge of the match."""
    if start == end:
        return False
    before = start > 0 and text[start - 1].isalnum() and text[start].isalnum()
    after = end < len(text) and text[end].isalnum() and text[end - 1].isalnum()
    return not (before or after)
