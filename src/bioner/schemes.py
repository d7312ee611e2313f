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
    closing: frozenset[str]
    """Prefixes a mention may end with."""
    inside: frozenset[str]
    """Prefixes that continue a mention of the same label."""
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
        """May a token with ``prefix`` follow ``O`` or the end of a mention?"""
        return prefix == OUTSIDE or prefix in self.opening

    def ends(self, prefix: str) -> bool:
        """May a mention (or ``O``) stop at a token with ``prefix``?"""
        return prefix == OUTSIDE or prefix in self.closing

    def continues(self, previous: str, prefix: str) -> bool:
        """May ``prefix`` continue a mention whose previous token had ``previous`` (same label)?"""
        return previous in self.opening - {self.single} | (self.inside - {self.last}) and prefix in self.inside


IOB2 = Scheme(
    "IOB2",
    ("B", "I"),
    opening=frozenset({"B"}),
    closing=frozenset({"B", "I"}),
    inside=frozenset({"I"}),
    single="B",
    last="I",
)
IOBES = Scheme(
    "IOBES",
    ("B", "I", "E", "S"),
    opening=frozenset({"B", "S"}),
    closing=frozenset({"E", "S"}),
    inside=frozenset({"I", "E"}),
    single="S",
    last="E",
)
SCHEMES: dict[str, Scheme] = {s.name: s for s in (IOB2, IOBES)}


def scheme_of(name: str) -> Scheme:
    """The scheme called ``name``; an unknown name is a one-line error."""
    if name not in SCHEMES:
        raise BionerError(f"unknown tag scheme {name!r}; schemes are: {', '.join(SCHEMES)}")
    return SCHEMES[name]
