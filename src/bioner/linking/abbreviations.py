"""Abbreviations defined in a document, by the Schwartz–Hearst algorithm (PSB 2003), with character offsets.

A definition is ``long form (SF)``: the short form inside parentheses (2–10 characters,
at most two words, starting with a letter or digit and holding a letter), the long form
the shortest run of words before it, within the sentence and at most
``min(|SF| + 5, 2·|SF|)`` words, whose characters contain the short form's letters in order,
its first letter at the start of a word. Linking then reads a mention ``SF`` (or a mention
containing the word ``SF``) as its long form, so a short form takes its long form's concept.

(The PyPI package ``abbreviations`` implements the same algorithm, but configures the root
logger on import and gives no offsets; this is the paper's algorithm as its authors' Java.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"[.!?;]\s")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Abbreviation:
    """A short form defined by a long form, both located in the document text."""

    short: str
    long: str
    short_start: int
    long_start: int


def find_abbreviations(text: str) -> list[Abbreviation]:
    """Every ``long form (SF)`` definition of ``text``, in text order."""
    found: list[Abbreviation] = []
    for match in re.finditer(r"\(([^()]*)\)", text):
        inner = match.group(1)
        short = re.split(r"[;,]\s", inner)[0].strip()
        if not _is_short_form(short):
            continue
        sentence_start = 0
        for end in _SENTENCE_END.finditer(text, 0, match.start()):
            sentence_start = end.end()
        words = list(_WORD.finditer(text, sentence_start, match.start()))
        n_words = _long_form_words(short, [w.group() for w in words])
        if n_words is None:
            continue
        long_start = words[-n_words].start()
        long = text[long_start : words[-1].end()]
        found.append(Abbreviation(short, long, match.start(1) + inner.index(short), long_start))
    return found


def abbreviation_map(text: str) -> dict[str, str]:
    """Short form -> long form for the document (the first definition of a short form wins).

    A long form holding another defined short form ("isolated DMS (IDMS)") is expanded once more.
    """
    out: dict[str, str] = {}
    for abbreviation in find_abbreviations(text):
        out.setdefault(abbreviation.short, abbreviation.long)
    return {short: _replace_words(long, {s: f for s, f in out.items() if s != short}) for short, long in out.items()}


def expand(mention: str, abbreviations: dict[str, str]) -> str:
    """The mention with each defined short form (a whole word of it) replaced by its long form."""
    if mention.strip() in abbreviations:
        return abbreviations[mention.strip()]
    return _replace_words(mention, abbreviations)


def _replace_words(text: str, abbreviations: dict[str, str]) -> str:
    """``text`` with each short form that is a whole word of it replaced by its long form."""
    if not abbreviations:
        return text
    alternatives = "|".join(re.escape(s) for s in sorted(abbreviations, key=len, reverse=True))
    return re.sub(rf"(?<![\w-])({alternatives})(?![\w-])", lambda m: abbreviations[m.group(1)], text)


def _is_short_form(candidate: str) -> bool:
    return (
        2 <= len(candidate) <= 10
        and len(candidate.split()) <= 2
        and candidate[0].isalnum()
        and any(c.isalpha() for c in candidate)
    )


def _long_form_words(short: str, words: list[str]) -> int | None:
    """How many of the last ``words`` make the shortest long form of ``short`` (Schwartz and Hearst), or None."""
    limit = min(len(short) + 5, 2 * len(short))
    window = " ".join(words[-limit:])
    s_index, l_index = len(short) - 1, len(window) - 1
    while s_index >= 0:
        char = short[s_index].lower()
        if not char.isalnum():
            s_index -= 1
            continue
        while l_index >= 0 and (
            window[l_index].lower() != char or (s_index == 0 and l_index > 0 and window[l_index - 1].isalnum())
        ):
            l_index -= 1
        if l_index < 0:
            return None
        l_index -= 1
        s_index -= 1
    long = window[window.rfind(" ", 0, l_index + 1) + 1 :]
    if len(long) <= len(short) or short.lower() in long.lower().split():
        return None
    return len(long.split(" "))
