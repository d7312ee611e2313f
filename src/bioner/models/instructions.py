"""VANER's training instances: an instruction naming corpus and entity type, a sentence, B/I/O tags.

One sentence of a corpus with several entity types gives one instance per type, each
tagged only for that type, so types never compete for a token and overlapping mentions
of different types are all kept. The instruction names the corpus because corpora follow
different guidelines; ``adapt`` instructions name only the type, for corpora the model
never saw. Anything that builds :class:`Instance` objects (for instance dense knowledge-base
sentences) can be appended to the training instances of a corpus.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bioner.errors import Report
from bioner.knowledge.dense import DENSE_GROUP, DenseSample
from bioner.types import Document, Span
from bioner.views import encode

MODES = ("corpus", "adapt")
TAGS = ("O", "B", "I")
"""The tags of one entity type, in the order of the tagging head's outputs."""


def instruction(label: str, corpus: str | None = None) -> str:
    """The instruction before a sentence; without ``corpus`` (``adapt`` mode) it names only the type."""
    if corpus:
        return (
            f"### Instruction: recognize all {label} entities in this sentence from the {corpus} dataset.\n### Input:"
        )
    return f"### Instruction: recognize all {label} entities in this sentence.\n### Input:"


@dataclass(frozen=True)
class Instance:
    """One input of the llm-tagger: ``instruction`` ⊕ ``words``, with one ``B``/``I``/``O`` tag per word.

    ``spans`` are the words' character offsets in document ``doc`` (empty for synthetic
    instances); ``tags`` is empty when the instance is to be predicted.
    """

    instruction: str
    words: tuple[str, ...]
    tags: tuple[str, ...] = ()
    label: str = ""
    group: str = ""
    """What the instance counts towards when a mixture is weighted (its corpus)."""
    doc: int = -1
    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        if self.tags and len(self.tags) != len(self.words):
            raise ValueError(f"{len(self.tags)} tags for {len(self.words)} words")
        if any(t not in TAGS for t in self.tags):
            raise ValueError(f"tags must be B, I or O, got {sorted(set(self.tags) - set(TAGS))}")


def instances_for(
    docs: Sequence[Document],
    corpus: str | None,
    types: Sequence[str],
    mode: str = "corpus",
    *,
    gold: bool = True,
    report: Report | None = None,
) -> Iterator[Instance]:
    """One instance per sentence of ``docs`` and entity type in ``types``.

    ``mode`` ``adapt`` leaves the corpus out of the instruction. With ``gold``, each
    instance is tagged with the sentence's entities of its type (nested mentions of one
    type are flattened and counted in ``report``); otherwise its tags are empty.
    """
    from bioner.models.segments import sentence_regions

    if mode not in MODES:
        raise ValueError(f"unknown instruction mode {mode!r}; modes: {', '.join(MODES)}")
    named = corpus if mode == "corpus" else None
    report = report if report is not None else Report()
    for d, doc in enumerate(docs):
        regions = sentence_regions(doc, report)
        for label in types:
            source = doc.with_entities([e for e in doc.entities if e.label == label] if gold else [])
            text = instruction(label, named)
            for region in regions:
                view = encode(source, "IOB2", region, report=report)
                if not view.tokens:
                    continue
                words = tuple(doc.text[s:e] for s, e in view.tokens)
                tags = tuple(t.partition("-")[0] for t in view.tags) if gold else ()
                yield Instance(text, words, tags, label, corpus or "", d, tuple(view.tokens))


def dense_instance(sample: DenseSample) -> Instance:
    """A knowledge-base sentence (DBR) as VANER publishes it: type-only instruction, other types ``O``."""
    words, tags = sample.tagged_words()
    bio = tuple(t.partition("-")[0] for t in tags)
    return Instance(instruction(sample.type), tuple(words), bio, sample.type, DENSE_GROUP)
