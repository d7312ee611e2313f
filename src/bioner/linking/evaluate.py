"""Linking accuracy on gold mentions: accuracy@k per label, and the time linking took.

Every gold mention of a label the index covers and with a concept ID (NIL mentions are
counted, not scored) is linked from its own text in its own document; it is right at
``k`` when the identifiers of the ``k`` best candidates (of each part, for a composite
mention) share an identifier with the gold field (:func:`bioner.evaluation.ids.ids_match`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bioner.evaluation.ids import id_set
from bioner.linking.linker import Linker
from bioner.types import Document

KS = (1, 5)


@dataclass(frozen=True)
class LinkAccuracy:
    """accuracy@k per label and overall, with what was left out and the linking time."""

    ks: tuple[int, ...]
    correct: dict[str, dict[int, int]]
    mentions: dict[str, int]
    nil: int
    """Gold mentions without a concept ID (not scored)."""
    uncovered: int
    """Gold mentions of labels the index has no vocabulary for (not scored)."""
    composite: int
    """Scored mentions the linker linked part by part."""
    seconds: float

    def accuracy(self, k: int, label: str | None = None) -> float:
        if label is not None:
            n = self.mentions.get(label, 0)
            return self.correct[label][k] / n if n else 0.0
        total = sum(self.mentions.values())
        return sum(c[k] for c in self.correct.values()) / total if total else 0.0

    @property
    def ms_per_1000(self) -> float:
        """Milliseconds to link 1,000 mentions (candidate generation included, index loading not)."""
        total = sum(self.mentions.values())
        return 1e6 * self.seconds / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mentions": sum(self.mentions.values()),
            **{f"accuracy@{k}": self.accuracy(k) for k in self.ks},
            "per_label": {
                label: {"mentions": n, **{f"accuracy@{k}": self.accuracy(k, label) for k in self.ks}}
                for label, n in self.mentions.items()
            },
            "nil_not_scored": self.nil,
            "uncovered_not_scored": self.uncovered,
            "linked_as_composite": self.composite,
            "seconds": self.seconds,
            "ms_per_1000_mentions": self.ms_per_1000,
        }

    def to_markdown(self) -> str:
        head = " | ".join(f"acc@{k}" for k in self.ks)
        lines = [f"| label | mentions | {head} |", "|---|--:|" + "--:|" * len(self.ks)]
        for label, n in [*self.mentions.items(), ("*all*", sum(self.mentions.values()))]:
            key = None if label == "*all*" else label
            lines.append(
                f"| {label} | {n} | " + " | ".join(f"{100 * self.accuracy(k, key):.2f}" for k in self.ks) + " |"
            )
        lines += [
            "",
            f"Not scored: {self.nil} gold mentions without a concept ID, {self.uncovered} of labels the index lacks. "
            f"Linked part by part: {self.composite}. Time: {self.ms_per_1000:.0f} ms per 1,000 mentions.",
        ]
        return "\n".join(lines) + "\n"


def link_accuracy(linker: Linker, docs: Sequence[Document], ks: Sequence[int] = KS) -> LinkAccuracy:
    """accuracy@k of ``linker`` on the gold mentions of ``docs``."""
    covered = [(d, e) for d in docs for e in d.entities if linker.index.type_for(e.label) is not None]
    uncovered = sum(len(d.entities) for d in docs) - len(covered)
    scored = [(d, e) for d, e in covered if id_set(e.id)]
    began = time.perf_counter()
    links = linker.rank(scored, max(ks))
    seconds = time.perf_counter() - began
    correct: dict[str, dict[int, int]] = {}
    mentions: dict[str, int] = {}
    composite = 0
    for (_, entity), found in zip(scored, links, strict=True):
        assert found is not None  # every scored mention's label is covered
        gold = id_set(entity.id)
        mentions[entity.label] = mentions.get(entity.label, 0) + 1
        row = correct.setdefault(entity.label, dict.fromkeys(ks, 0))
        composite += len(found.candidates) > 1
        for k in ks:
            row[k] += bool(gold & id_set("|".join(found.ids_at(k))))
    return LinkAccuracy(
        tuple(ks), correct, dict(sorted(mentions.items())), len(covered) - len(scored), uncovered, composite, seconds
    )
