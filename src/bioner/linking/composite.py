"""Composite mentions: "breast and ovarian cancer" names two concepts, "breast cancer" and "ovarian cancer".

A mention is split at coordinations (``and``, ``or``, ``and/or``, ``nor``, commas, and a
slash between words); when every conjunct before the last is shorter than the last, they
are modifiers sharing the last conjunct's head, which is given to each of them
("Duchenne and Becker muscular dystrophy" -> "Duchenne muscular dystrophy", "Becker
muscular dystrophy"). The linker links the whole mention and its parts and keeps the
parts only when each part links better than the whole, so a vocabulary name that holds a
coordination ("hereditary breast and ovarian cancer") stays one concept.
"""

from __future__ import annotations

import re

_COORDINATION = re.compile(r"\s*,?\s+(?:and/or|and|or|nor|&)\s+|\s*,\s*|(?<=\w)/(?=\w)", re.IGNORECASE)


def split_composite(mention: str) -> list[str]:
    """The concept names a coordinated mention stands for; a mention without coordination as itself."""
    conjuncts = [c.strip() for c in _COORDINATION.split(mention.strip()) if c.strip()]
    if len(conjuncts) < 2:
        return [mention.strip()]
    last = conjuncts[-1].split()
    heads = [len(c.split()) for c in conjuncts[:-1]]
    if all(n < len(last) for n in heads):
        modifier_words = heads[0]
        head = " ".join(last[modifier_words:])
        return [*(f"{c} {head}" for c in conjuncts[:-1]), conjuncts[-1]]
    return conjuncts
