"""Dense samples (VANER's DBR): knowledge-base names concatenated into extra training sentences.

For every training sentence and every wanted type ``T``, candidate phrases are mined
(:mod:`bioner.knowledge.phrases`), the ``top_k`` most similar knowledge-base names of
each phrase are retrieved (:mod:`bioner.knowledge.retrieval`), and up to ``positives``
retrieved names of type ``T`` plus up to ``negatives`` of other types, shuffled, are
joined into one dense sentence. In ``random`` mode the same samples are made (same
sentences, types and counts) but every name is drawn uniformly from the knowledge base
among the names of its type (the paper's control, which helps less or hurts).

A sample is backend-neutral: :meth:`DenseSample.document` gives a bioner
:class:`~bioner.types.Document` whose text is the joined names and whose entities are the
names to tag. VANER tags only type ``T`` (other types are ``O``) under an instruction
naming ``T``, which is what an instruction-following tagger needs (``labels=None``). An
encoder has no instruction and tags all its labels at once, so for it a name of another
type that is one of the model's labels keeps its own label (otherwise a real
``Chemical`` would be taught as ``O`` in one sentence and as ``Chemical`` in the next);
names of types the model does not tag are ``O``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bioner.backbones import DEFAULT_BACKBONE
from bioner.errors import BionerError, Report
from bioner.knowledge.kb import KBEntry, KnowledgeBase, kb_from_documents, load_kb, normalize_name
from bioner.knowledge.phrases import PhraseMiner
from bioner.knowledge.retrieval import Retriever, make_retriever
from bioner.text import document_sentences
from bioner.types import Document, Entity
from bioner.views import encode

DBR_MODES = ("off", "retrieved", "random")
DBR_RETRIEVERS = ("embedding", "tfidf")


@dataclass
class DbrConfig:
    """VANER's Dense Bio-entity Recognition: extra training sentences made of knowledge-base names.

    ``--set dbr=retrieved`` is short for ``--set dbr.mode=retrieved`` (see :mod:`bioner.knowledge`).
    """

    mode: str = "off"
    """``off``, ``retrieved`` (names similar to each sentence's phrases) or ``random`` (names drawn at random)."""
    kb: str | None = None
    """A knowledge-base file (TSV or JSONL, ``bioner kb build``) added to the training mentions."""
    retriever: str = "embedding"
    """``embedding`` (sentence-transformers model + FAISS) or ``tfidf`` (character 3-grams, fast)."""
    embedding_model: str = DEFAULT_BACKBONE
    """Sentence-transformers model name or folder (e.g. SapBERT) for the ``embedding`` retriever."""
    top_k: int = 5
    """Knowledge-base names kept per query phrase."""
    phrases: int = 20
    """Query phrases mined per sentence (best quality first)."""
    positives: int = 10
    """Most names of the wanted type in one dense sentence."""
    negatives: int = 5
    """Most names of other types in one dense sentence."""
    seed: int = 13
    cache_dir: str | None = None
    """Where knowledge-base embeddings are cached (default ``BIONER_CACHE`` or ``~/.cache/bioner``)."""

    def problems(self) -> list[str]:
        """Checks of choices and ranges, one line each."""
        problems = []
        if self.mode not in DBR_MODES:
            problems.append(f"dbr.mode must be one of {', '.join(DBR_MODES)}, got {self.mode!r}")
        if self.retriever not in DBR_RETRIEVERS:
            problems.append(f"dbr.retriever must be one of {', '.join(DBR_RETRIEVERS)}, got {self.retriever!r}")
        for name in ("top_k", "phrases", "positives"):
            if getattr(self, name) < 1:
                problems.append(f"dbr.{name} must be at least 1, got {getattr(self, name)}")
        if self.negatives < 0:
            problems.append(f"dbr.negatives must not be negative, got {self.negatives}")
        return problems


SEPARATOR = " ; "
"""Between names in a dense sentence: a token of its own, tagged ``O``."""
DENSE_GROUP = "dbr"
"""The mixture group of the llm-tagger's dense instances."""


@dataclass(frozen=True)
class DenseSample:
    """The names of one dense sentence, for type ``type``, built from sentence ``source``."""

    type: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    """The knowledge-base type of each name."""
    source: str = ""

    def document(self, labels: Iterable[str] | None = None, doc_id: str = "") -> Document:
        """The dense sentence as a one-sentence document.

        Names of ``self.type`` are entities; with ``labels`` (an encoder's label set), names
        of those other types are entities with their own label too.
        """
        tagged = {self.type, *(labels or ())} if labels is not None else {self.type}
        text_parts: list[str] = []
        entities: list[Entity] = []
        cursor = 0
        for name, type_ in zip(self.names, self.types, strict=True):
            if text_parts:
                text_parts.append(SEPARATOR)
                cursor += len(SEPARATOR)
            if type_ in tagged:
                entities.append(Entity(cursor, cursor + len(name), type_, name))
            text_parts.append(name)
            cursor += len(name)
        text = "".join(text_parts)
        meta = {"dbr_type": self.type, "dbr_source": self.source}
        return Document(
            doc_id or f"dbr:{self.source}:{self.type}", text, tuple(entities), sentences=((0, len(text)),), meta=meta
        )

    def tagged_words(self) -> tuple[list[str], list[str]]:
        """Words and IOB2 tags of the type-only view (VANER's eq. 7), for an instruction-following tagger."""
        doc = self.document()
        view = encode(doc)
        return [doc.text[s:e] for s, e in view.tokens], list(view.tags)


DENSE_ADDED = "dense knowledge-base sentences added to training"
"""The report line (counted) of every run with DBR on, so a run says how much it added."""


def dense_samples(
    docs: Sequence[Document],
    labels: Sequence[str],
    kb: KnowledgeBase,
    dbr: DbrConfig,
    retriever: Retriever | None = None,
) -> list[DenseSample]:
    """Dense samples for every sentence of ``docs`` and every label, as ``dbr.mode`` says (none when ``off``)."""
    if dbr.mode == "off" or not labels:
        return []
    if dbr.mode not in ("retrieved", "random"):
        raise BionerError(f"unknown dbr.mode {dbr.mode!r}")
    entries = kb.entries
    if not any(e.type in labels for e in entries):
        raise BionerError(f"the knowledge base holds no names of the labels {', '.join(labels)}")
    rng = random.Random(dbr.seed)
    sentences = [(doc, s, e) for doc in docs for s, e in document_sentences(doc)]
    pools = _retrieved_pools(docs, sentences, entries, dbr, retriever)
    samples: list[DenseSample] = []
    for (doc, start, _), pool in zip(sentences, pools, strict=True):
        for label in labels:
            chosen = _choose(pool, label, dbr, rng)
            if any(e.type == label for e in chosen):
                samples.append(
                    DenseSample(
                        label, tuple(e.name for e in chosen), tuple(e.type for e in chosen), f"{doc.id}@{start}"
                    )
                )
    if dbr.mode == "random":
        samples = [_randomised(sample, entries, rng) for sample in samples]
    return samples


def _choose(pool: Sequence[KBEntry], label: str, dbr: DbrConfig, rng: random.Random) -> list[KBEntry]:
    positives = [e for e in pool if e.type == label]
    picked = rng.sample(positives, min(dbr.positives, len(positives)))
    taken = {normalize_name(e.name) for e in picked}
    negatives = [e for e in pool if e.type != label and normalize_name(e.name) not in taken]
    negatives = list({normalize_name(e.name): e for e in negatives}.values())  # one type per name in a sentence
    picked += rng.sample(negatives, min(dbr.negatives, len(negatives)))
    rng.shuffle(picked)
    return picked


def _randomised(sample: DenseSample, entries: Sequence[KBEntry], rng: random.Random) -> DenseSample:
    """The same sample with its names drawn uniformly from the knowledge base, type for type.

    Random DBR keeps the sentences, types and counts of retrieved DBR, so the ablation
    compares relevant names against random ones and nothing else (VANER, Table 3).
    """
    by_type: dict[str, list[KBEntry]] = {}
    for entry in entries:
        by_type.setdefault(entry.type, []).append(entry)
    names: list[str] = []
    for wanted in sample.types:
        pool = by_type[wanted]
        for _ in range(8):  # avoid repeating a name within the sample where the pool allows it
            name = pool[rng.randrange(len(pool))].name
            if name not in names:
                break
        names.append(name)
    return DenseSample(sample.type, tuple(names), sample.types, sample.source)


def _retrieved_pools(
    docs: Sequence[Document],
    sentences: Sequence[tuple[Document, int, int]],
    entries: Sequence[KBEntry],
    dbr: DbrConfig,
    retriever: Retriever | None,
) -> list[list[KBEntry]]:
    """Per sentence, the knowledge-base entries retrieved for its mined phrases (each once, best first)."""
    miner = PhraseMiner().fit(doc.text for doc in docs)
    phrases = [[p.text for p in miner.mine(doc.text, s, e, limit=dbr.phrases)] for doc, s, e in sentences]
    queries = sorted({q for qs in phrases for q in qs})
    if retriever is None:
        retriever = make_retriever(dbr.retriever, dbr.embedding_model, dbr.cache_dir)
    retriever.fit([e.name for e in entries])
    _, indices = retriever.search(queries, dbr.top_k)
    hits = {q: [int(i) for i in row if i >= 0] for q, row in zip(queries, indices, strict=True)}
    pools = []
    for qs in phrases:
        found = dict.fromkeys(i for q in qs for i in hits[q])
        pools.append([entries[i] for i in found])
    return pools


def training_kb(train: Sequence[Document], dbr: DbrConfig, report: Report | None = None) -> KnowledgeBase:
    """The knowledge base a training run uses: its training mentions, plus ``dbr.kb`` when set (leak-checked)."""
    kb = kb_from_documents(train, "training data/train")
    if dbr.kb is not None:
        if not Path(dbr.kb).is_file():
            raise BionerError(f"dbr.kb: no such knowledge-base file {dbr.kb}")
        extra = load_kb(dbr.kb, report)
        extra.check_no_test_leak(dbr.kb)
        kb.merge(extra)
    return kb


def training_samples(
    train: Sequence[Document],
    labels: Sequence[str],
    dbr: DbrConfig,
    *,
    report: Report | None = None,
    retriever: Retriever | None = None,
) -> list[DenseSample]:
    """The dense samples of a training run (none when ``dbr.mode`` is ``off``), counted in ``report``.

    The knowledge base is the run's training mentions plus ``dbr.kb``; each backend turns the
    samples into its own examples (:meth:`DenseSample.document` for an encoder, tagged words
    under a type-only instruction for the llm-tagger).
    """
    if dbr.mode == "off":
        return []
    kb = training_kb(train, dbr, report)
    samples = dense_samples(train, labels, kb, dbr, retriever)
    if report is not None:
        report.warn(f"{DENSE_ADDED} ({dbr.mode})", len(samples))
    return samples
