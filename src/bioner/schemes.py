"""Tag schemes declared once (after seqeval's ``scheme.py``): which prefixes exist and which may follow which.

IOB2 marks the first token of a mention ``B`` and the rest ``I``; IOBES also marks the last
token ``E`` and a one-token mention ``S``. Views encode with :meth:`Scheme.prefixes_for`,
decoding and the CoNLL reader check transitions with :meth:`Scheme.starts`, :meth:`Scheme.ends`
and :meth:`Scheme.continues`, Viterbi builds its transition matrix from the same three rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bioner.errors import BionerError

OUTSIDE = "O"


@dataclass(frozen=True)
class Scheme:
    """A tag scheme's rules, as data."""

    name: str
    prefixes: tuple[str, ...]
    """Entity prefixes, in the order a label's tags are listed."""
    opening: frozenset[str]
    """Prefixes a mention starts with."""
    inside: frozenset[str]
    """Prefixes that continue a mention of the same label (never a start)."""
    open_after: frozenset[str]
    """Prefixes after which the mention may go on."""
    closing: frozenset[str]
    """Prefixes a mention may end with."""
    single: str
    """The prefix of a one-token mention."""
    last: str
    """The prefix of the last token of a longer mention."""

    def tag_list(self, labels: Sequence[str]) -> list[str]:
        """``O`` then, per label, its tags in prefix order."""
        return [OUTSIDE, *(f"{p}-{label}" for label in labels for p in self.prefixes)]

    def prefixes_for(self, length: int) -> list[str]:
        """The prefixes of a mention of ``length`` tokens."""
        if length == 1:
            return [self.single]
        return ["B", *(["I"] * (length - 2)), self.last]

    def starts(self, prefix: str) -> bool:
        """May a sequence (or a token after a finished mention) begin with ``prefix``?"""
        return prefix == OUTSIDE or prefix in self.opening

    def ends(self, prefix: str) -> bool:
        """May a mention (or ``O``) stop at a token with ``prefix``?"""
        return prefix == OUTSIDE or prefix in self.closing

    def continues(self, previous: str, prefix: str) -> bool:
        """Does ``prefix`` continue a mention of the same label whose previous token had ``previous``?"""
        return previous in self.open_after and prefix in self.inside

    def follows(self, previous: str, prefix: str, same_label: bool) -> bool:
        """May a token with ``prefix`` follow one with ``previous`` (labels equal or not)?"""
        if prefix in self.inside:
            return same_label and self.continues(previous, prefix)
        return self.ends(previous)


IOB2 = Scheme(
    "IOB2",
    ("B", "I"),
    opening=frozenset({"B"}),
    inside=frozenset({"I"}),
    open_after=frozenset({"B", "I"}),
    closing=frozenset({"B", "I"}),
    single="B",
    last="I",
)
IOBES = Scheme(
    "IOBES",
    ("B", "I", "E", "S"),
    opening=frozenset({"B", "S"}),
    inside=frozenset({"I", "E"}),
    open_after=frozenset({"B", "I"}),
    closing=frozenset({"E", "S"}),
    single="S",
    last="E",
)
SCHEMES: dict[str, Scheme] = {s.name: s for s in (IOB2, IOBES)}


def scheme_of(name: str) -> Scheme:
    """The scheme called ``name``; an unknown name is a one-line error."""
    if name not in SCHEMES:
        raise BionerError(f"unknown tag scheme {name!r}; schemes are: {', '.join(SCHEMES)}")
    return SCHEMES[name]
