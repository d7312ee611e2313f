"""Token/tag views of documents (IOB2, IOBES) and their decoding back to character spans.

A view is derived from a document and never stored as truth. Encoding reports what
a flat tag sequence cannot hold (nested or overlapping mentions, mentions that do not
start or end on a token boundary); decoding counts invalid tag transitions instead of
repairing them silently.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bioner.errors import Report
from bioner.schemes import SCHEMES
from bioner.text import document_sentences, tokenize
from bioner.types import Document, Entity, Span

Tokenizer = Callable[..., list[Span]]


@dataclass(frozen=True)
class TokenView:
    """Tokens (character spans) with one tag each, in ``scheme``."""

    tokens: tuple[Span, ...]
    tags: tuple[str, ...]
    scheme: str = "IOB2"

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown tag scheme {self.scheme!r}; expected one of {', '.join(SCHEMES)}")

    def to_entities(self, text: str, report: Report | None = None) -> list[Entity]:
        return decode(self.tokens, self.tags, text, self.scheme, report)


def split_tag(tag: str) -> tuple[str, str]:
    """``"B-Disease"`` -> ``("B", "Disease")``; ``"O"`` -> ``("O", "")``."""
    if tag == "O":
        return "O", ""
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in SCHEMES["IOBES"].prefixes or not label:
        raise ValueError(f"malformed tag {tag!r}")
    return prefix, label


def flatten(entities: Sequence[Entity]) -> tuple[list[Entity], list[Entity]]:
    """Split entities into a non-overlapping set a tagger can hold, and the rest.

    Longer mentions win (the outermost of a nest), then earlier ones, so the choice
    does not depend on input order.
    """
    kept: list[Entity] = []
    dropped: list[Entity] = []
    for e in sorted(entities, key=lambda x: (-(x.end - x.start), x.start, x.label)):
        (dropped if any(e.overlaps(k) for k in kept) else kept).append(e)
    kept.sort(key=lambda x: x.start)
    return kept, dropped


def encode(
    doc: Document,
    scheme: str = "IOB2",
    region: Span | None = None,
    tokenizer: Tokenizer = tokenize,
    report: Report | None = None,
) -> TokenView:
    """Tag the tokens of ``doc`` (or of a region of it) with its entities.

    Tokens are cut at every entity boundary, so only whitespace inside a mention's
    edges or nesting can lose information; both are counted in ``report``.
    """
    start, end = region or (0, len(doc.text))
    inside = [e for e in doc.entities if e.start < end and e.end > start]
    report = report if report is not None else Report()
    crossing = [e for e in inside if e.start < start or e.end > end]
    report.lose("entities crossing a sentence or window boundary", len(crossing))
    inside = [e for e in inside if start <= e.start and e.end <= end]
    kept, dropped = flatten(inside)
    report.lose("nested or overlapping entities", len(dropped))
    bounds = {b for e in kept for b in (e.start, e.end)}
    tokens = tokenizer(doc.text, split_at=bounds, start=start, end=end)
    tags = ["O"] * len(tokens)
    starts = [s for s, _ in tokens]
    for e in kept:
        first = bisect_left(starts, e.start)
        last = bisect_left(starts, e.end) - 1
        while last >= first and tokens[last][1] > e.end:
            last -= 1
        if last < first:
            report.lose("entities covering no token", 1)
            continue
        if tokens[first][0] != e.start or tokens[last][1] != e.end:
            report.lose("entities with whitespace at an edge (trimmed to their tokens)", 1)
        for i in range(first, last + 1):
            tags[i] = _tag(scheme, i, first, last, e.label)
    return TokenView(tuple(tokens), tuple(tags), scheme)


def _tag(scheme: str, i: int, first: int, last: int, label: str) -> str:
    return f"{SCHEMES[scheme].prefixes_for(last - first + 1)[i - first]}-{label}"


def sentence_views(
    doc: Document, scheme: str = "IOB2", tokenizer: Tokenizer = tokenize, report: Report | None = None
) -> list[TokenView]:
    """One view per sentence of the document (its own sentences, or split ones)."""
    return [encode(doc, scheme, span, tokenizer, report) for span in document_sentences(doc)]


def decode(
    tokens: Sequence[Span],
    tags: Sequence[str],
    text: str,
    scheme: str = "IOB2",
    report: Report | None = None,
    scores: Sequence[float] | None = None,
) -> list[Entity]:
    """Character-span entities from tagged tokens.

    Invalid transitions (``I-X`` after ``O`` or after another type, a lone ``E-``)
    start a new mention, as conlleval reads them, and are counted in ``report``.
    With ``scores``, each entity gets the mean score of its tokens.
    """
    rules = SCHEMES[scheme]
    entities: list[Entity] = []
    open_label: str | None = None
    open_first = 0
    last_prefix = ""
    invalid = 0

    def close(last: int) -> None:
        nonlocal open_label, invalid
        if open_label is not None:
            invalid += not rules.ends(last_prefix)  # IOBES: a mention must end with E or S
            s, e = tokens[open_first][0], tokens[last][1]
            score = sum(scores[open_first : last + 1]) / (last + 1 - open_first) if scores is not None else None
            entities.append(Entity(s, e, open_label, text[s:e], score=score))
        open_label = None

    for i, tag in enumerate(tags):
        if tag == "O":  # most tokens: nothing to split or close
            if open_label is not None:
                close(i - 1)
            continue
        prefix, label = split_tag(tag)
        if prefix not in rules.prefixes:
            raise ValueError(f"tag {tag!r} is not part of the {scheme} scheme")
        if not (open_label == label and rules.continues(last_prefix, prefix)):
            close(i - 1)
            invalid += prefix in rules.inside
            open_label, open_first = label, i
        last_prefix = prefix
        if prefix not in rules.open_after:  # IOBES: E and S end their mention here
            close(i)
    close(len(tags) - 1)
    if report is not None:
        report.warn("invalid tag transitions (read as mention starts)", invalid)
    return entities


def convert_tags(tags: Sequence[str], to_scheme: str) -> list[str]:
    """Re-tag a valid IOB2 or IOBES sequence in another scheme."""
    entities = decode([(i, i + 1) for i in range(len(tags))], tags, " " * len(tags), _scheme_of(tags))
    out = ["O"] * len(tags)
    for e in entities:
        for i in range(e.start, e.end):
            out[i] = _tag(to_scheme, i, e.start, e.end - 1, e.label)
    return out


def _scheme_of(tags: Iterable[str]) -> str:
    return "IOBES" if any(t[:2] in {"E-", "S-"} for t in tags) else "IOB2"


def decode_document(doc: Document, views: Sequence[TokenView], report: Report | None = None) -> Document:
    """The document with the entities of its views (e.g. a tagger's output) in place of its own."""
    entities: list[Entity] = []
    for view in views:
        entities.extend(view.to_entities(doc.text, report))
    return doc.with_entities(entities)
