"""Word tokenizer and sentence splitter that work on character offsets.

Tokens and sentences are spans into the original text, never re-joined strings, so
no offset can drift. The tokenizer splits on whitespace and makes every punctuation
character a token of its own; it can also be told to split at given offsets (entity
boundaries), so that a gold mention never falls inside a token.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

from bioner.types import Document, Entity, Span

_WORD = re.compile(r"[^\W_]+|\S", re.UNICODE)
"""Runs of letters/digits, or any single other visible character (punctuation, symbols)."""

_NON_SPACE = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s+)")
_NEWLINE = re.compile(r"\n")
_ABBREVIATIONS = frozenset(
    "e.g i.e et al fig figs vs cf approx ca no nos dr mr mrs ms prof st resp ref refs eq eqs "  # noqa: SIM905
    "sp spp var subsp inc ltd co jr sr vol etc viz pp p".split()
)


def tokenize(text: str, split_at: Iterable[int] = (), start: int = 0, end: int | None = None) -> list[Span]:
    """Word tokens of ``text[start:end]`` as absolute spans.

    ``split_at`` adds token boundaries (e.g. entity offsets) inside what would otherwise
    be one token, so a mention boundary always coincides with a token boundary.
    """
    stop = len(text) if end is None else end
    cuts = sorted({c for c in split_at if start < c < stop})
    spans: list[Span] = []
    for match in _WORD.finditer(text, start, stop):
        s, e = match.span()
        spans.extend(_cut(s, e, cuts))
    return spans


def whitespace_tokenize(text: str, split_at: Iterable[int] = (), start: int = 0, end: int | None = None) -> list[Span]:
    """Whitespace-separated tokens (for pre-tokenized corpora), optionally cut at offsets."""
    stop = len(text) if end is None else end
    cuts = sorted({c for c in split_at if start < c < stop})
    spans: list[Span] = []
    for match in _NON_SPACE.finditer(text, start, stop):
        spans.extend(_cut(*match.span(), cuts))
    return spans


def _cut(s: int, e: int, cuts: Sequence[int]) -> list[Span]:
    inner = [c for c in cuts if s < c < e] if cuts else []
    if not inner:
        return [(s, e)]
    bounds = [s, *inner, e]
    return [(a, b) for a, b in itertools.pairwise(bounds)]


def split_sentences(text: str, entities: Sequence[Entity] = (), start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of ``text[start:end]``, never ending inside an entity.

    A sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets) followed
    by whitespace and then an upper-case letter, digit or opening bracket, unless the
    word before is a known abbreviation or a single letter (as in "E. coli"). A line
    break also ends a sentence. Spans exclude surrounding whitespace.
    """
    stop = len(text) if end is None else end
    blocked = [(e.start, e.end) for e in entities if e.end > start and e.start < stop]
    cuts: list[int] = []
    for match in _SENTENCE_END.finditer(text, start, stop):
        cut = match.end()
        nxt = _next_visible(text, cut, stop)
        if nxt is None or not (text[nxt].isupper() or text[nxt].isdigit() or text[nxt] in "([\"'"):
            continue
        word = _word_before(text, match.start(), start)
        if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        cuts.append(cut)
    cuts.extend(m.start() for m in _NEWLINE.finditer(text, start, stop))
    cuts = sorted({c for c in cuts if start < c < stop and not any(s < c < e for s, e in blocked)})
    spans: list[Span] = []
    previous = start
    for cut in [*cuts, stop]:
        span = _strip(text, previous, cut)
        if span is not None:
            spans.append(span)
        previous = cut
    return spans


def _next_visible(text: str, i: int, stop: int) -> int | None:
    while i < stop and text[i].isspace():
        i += 1
    return i if i < stop else None


def _word_before(text: str, i: int, floor: int) -> str:
    j = i
    while j > floor and (text[j - 1].isalnum() or text[j - 1] == "."):
        j -= 1
    return text[j:i].strip(".")


def _strip(text: str, s: int, e: int) -> Span | None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if s < e else None


def document_sentences(doc: Document) -> list[Span]:
    """The document's own sentence spans, or split passage by passage when it has none.

    Text that no passage covers is split too, so no text is left out of every sentence.
    """
    if doc.sentences is not None:
        return list(doc.sentences)
    spans: list[Span] = []
    for s, e in _regions(doc):
        spans.extend(split_sentences(doc.text, doc.entities, s, e))
    return _close_entity_gaps(spans, doc.entities)


def _regions(doc: Document) -> list[Span]:
    """The passages in text order, with the gaps between them, overlaps removed."""
    regions: list[Span] = []
    cursor = 0
    for p in sorted(doc.passages, key=lambda p: (p.offset, p.end)):
        if p.offset > cursor:
            regions.append((cursor, p.offset))
        if p.end > cursor:
            regions.append((max(cursor, p.offset), p.end))
            cursor = p.end
    if cursor < len(doc.text):
        regions.append((cursor, len(doc.text)))
    return regions


def _close_entity_gaps(spans: list[Span], entities: Sequence[Entity]) -> list[Span]:
    """Merge sentences that an entity crosses (passage boundaries may cut one)."""
    merged: list[Span] = []
    for s, e in spans:
        if merged and any(x.start < merged[-1][1] and x.end > s for x in entities):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged
