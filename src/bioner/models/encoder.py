"""The ``encoder`` backend: BIO/IOBES token classification with any Hugging Face encoder.

Documents are cut into sentences and word tokens (character spans, from
:mod:`bioner.views`); the words are given to the backbone's fast tokenizer as
pre-split words, so sub-tokens map to words through ``word_ids`` and never through
re-joined strings. Each word is tagged from its first sub-token. A sentence longer
than the model's window is cut into overlapping windows (:mod:`bioner.models.windows`)
and every word keeps a prediction. Tags are decoded by constrained Viterbi
(:mod:`bioner.models.decoding`), so the output spans need no repair.

Trained on a mixture of corpora, the model keeps one tag set per corpus: the head's
outputs are the corpora's tag sets side by side, each sentence is trained with a softmax
over its own corpus's set only (so NCBI-disease's unannotated chemicals never teach BC5CDR's
``Chemical`` to be ``O``), and a document is decoded with the set of the corpus it says it
comes from (``meta["corpus"]``), or with every set when it names none.

A saved model is one folder: ``model.safetensors`` (backbone and head), ``backbone/``
(the backbone's config and the tokenizer), ``tags.json`` (the tags, and the labels of each
corpus of a mixture) and ``config.toml`` (the resolved training config). Loading it reads
local files only and runs no remote code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from safetensors.torch import load_file, load_model, save_file, save_model

from bioner.backbones import resolve_backbone
from bioner.corpora.naming import corpus_of, with_corpus
from bioner.errors import BionerError, Report
from bioner.files import atomic_path
from bioner.models.base import Runtime, TrainingData, TrainingTask
from bioner.models.decoding import allowed_transitions, viterbi_batch
from bioner.models.head import POOLINGS, BackboneTagger
from bioner.models.quantize import CALIBRATION_WINDOWS, Calibration, input_maxima
from bioner.models.registry import register, saved_runtime, saved_settings
from bioner.models.segments import (
    LONG_WORDS,
    NO_PIECES,
    WINDOWED,
    Segment,
    WordTaggerSettings,
    check_labels,
    collate,
    collector_paused,
    first_line,
    pad_id,
    quiet_loading,
    read_json,
    reading_weights,
    require_files,
    save_model_files,
    score_segments,
    segment_loss,
    sentence_regions,
    training_task,
    windowing_tokenizer,
)
from bioner.models.windows import Window, merge_windows, plan_windows
from bioner.schemes import scheme_of
from bioner.settings import choice_problems
from bioner.types import Document, Entity, Span
from bioner.views import TokenView, decode, encode

WEIGHTS_FILE = "model.safetensors"
CALIBRATION_FILE = "int8_calibration.safetensors"
"""Per linear layer, the activation maxima int8 prediction smooths with (:mod:`bioner.models.quantize`)."""
TAGS_FILE = "tags.json"
BACKBONE_DIR = "backbone"
UNSEEN_CORPUS = "documents of no training corpus (decoded with every corpus's tag set)"
LEGACY_KEYS = ("bidirectional", "instruction", "attention", "lora_r", "lora_alpha", "lora_dropout", "quantize")
"""llm-tagger keys that encoder folders saved before per-backend settings hold (and never used)."""
ENCODER_CHOICES = {"head": ("softmax", "crf"), "pooling": POOLINGS}


@dataclass
class EncoderSettings(WordTaggerSettings):
    """``[model]`` of the ``encoder`` backend."""

    scheme: str = "IOB2"
    """``IOB2`` or ``IOBES`` tags over the word tokens."""
    labels: list[str] = field(default_factory=list)
    head: str = "softmax"
    """``softmax`` (per-word tags, constrained Viterbi) or ``crf`` (learned transitions, trained jointly)."""
    pooling: str = "first"
    """A word's vector: its ``first`` sub-token's, or the ``mean`` of its sub-tokens'."""
    context: int = 0
    """Sub-tokens of the neighbouring text (FLERT) put on each side of a window, where the window leaves room;
    they are read, never tagged nor trained on. 0: the sentence alone."""
    corpus_prefix: bool = False
    """In a mixture, each window starts with its corpus's name (read, never tagged): one model, told which
    corpus's guidelines to follow."""

    def problems(self) -> list[str]:
        problems = super().problems()
        problems += choice_problems(self, "model", ENCODER_CHOICES)
        if self.context < 0:
            problems.append(f"model.context must not be negative, got {self.context}")
        try:
            scheme_of(self.scheme)
        except BionerError as err:
            problems.append(f"model.scheme: {err}")
        return problems


def tag_list(labels: Sequence[str], scheme: str) -> list[str]:
    """``O`` then, per label, its ``B``/``I`` (and ``E``/``S`` for IOBES) tags."""
    return scheme_of(scheme).tag_list(labels)


@dataclass(frozen=True)
class TagSet:
    """One corpus's tags and where they sit among the head's outputs."""

    corpus: str
    labels: tuple[str, ...]
    tags: tuple[str, ...]
    start: int

    @property
    def stop(self) -> int:
        return self.start + len(self.tags)


def tag_sets(labels_by_corpus: dict[str, list[str]], scheme: str) -> list[TagSet]:
    """The head's outputs: each corpus's tag list, one after the other (one list for a single corpus)."""
    sets, start = [], 0
    for corpus, labels in labels_by_corpus.items():
        tags = tuple(tag_list(labels, scheme))
        sets.append(TagSet(corpus, tuple(labels), tags, start))
        start += len(tags)
    return sets


@dataclass(frozen=True)
class _Sentence:
    doc: int
    tokens: tuple[Span, ...]
    windows: tuple[Window, ...]
    first_segment: int
    tag_set: TagSet | None
    """The tag set of the document's corpus; None: every set (a corpus the model was not trained on)."""


@dataclass(frozen=True)
class _Planned:
    """A sentence's words as sub-tokens, placed in its document's stream of sub-tokens (for context)."""

    doc: int
    view: TokenView
    tag_set: TagSet | None
    pieces: list[list[int]]
    offsets: list[int]
    """Where each word starts in the document's sub-token stream, and where the last one ends."""


@register("encoder", EncoderSettings, legacy_keys=LEGACY_KEYS)
class EncoderTagger:
    """Token classification over word tokens with a Hugging Face encoder (BERT, RoBERTa, DeBERTa, ELECTRA...)."""

    def __init__(self, settings: EncoderSettings | None = None, runtime: Runtime | None = None) -> None:
        self.settings = settings or EncoderSettings()
        self.runtime = runtime or Runtime()
        self.provenance: dict[str, Any] = {}
        self.tags: list[str] = []
        """The head's outputs; with one tag set per corpus, each tag is ``corpus/tag``."""
        self.tag_sets: list[TagSet] = []
        self.tokenizer: Any = None
        self.module: BackboneTagger | None = None
        self.int8_calibration: Calibration | None = None
        """What ``precision="int8"`` smooths with: made by :meth:`calibrate_int8`, saved beside the weights."""
        self._backbone_config: Any = None
        self._prefix: list[int] = []
        self._suffix: list[int] = []
        self._corpus_prefixes: dict[str, list[int]] = {}

    @property
    def labels(self) -> list[str]:
        return list(self.settings.labels)

    # -- building, saving, loading -------------------------------------------------------------

    def build(self, labels_by_corpus: dict[str, list[str]], report: Report) -> None:
        """Tokenizer and model from ``settings.backbone``, the window length capped at the backbone's limit."""
        from transformers import AutoModel, AutoTokenizer

        source = resolve_backbone(self.settings.backbone)
        try:
            with quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(source, add_prefix_space=True, trust_remote_code=False)
                backbone = AutoModel.from_pretrained(source, trust_remote_code=False)
        except (OSError, ValueError) as err:
            raise BionerError(f"cannot load backbone {self.settings.backbone!r}: {first_line(err)}") from None
        limit = _window_limit(tokenizer, backbone, self.settings.max_length)
        if limit < self.settings.max_length:
            report.warn(f"model.max_length capped at the backbone's limit of {limit} sub-tokens")
            overlap = min(self.settings.window_overlap, limit // 4)
            self.settings = dataclasses.replace(self.settings, max_length=limit, window_overlap=overlap)
        self.attach(tokenizer, backbone, labels_by_corpus)

    def attach(self, tokenizer: Any, backbone: Any, labels_by_corpus: dict[str, list[str]] | None = None) -> None:
        """Tag sets (one per corpus, or one for ``settings.labels``), tokenizer, backbone and a fresh head."""
        self.tag_sets = tag_sets(labels_by_corpus or {"": list(self.settings.labels)}, self.settings.scheme)
        if len(self.tag_sets) == 1:
            self.tags = list(self.tag_sets[0].tags)
        else:
            self.tags = [f"{s.corpus}/{tag}" for s in self.tag_sets for tag in s.tags]
        self.tokenizer = windowing_tokenizer(tokenizer)
        self._backbone_config = backbone.config
        self.int8_calibration = None  # it belongs to the weights it was measured on
        hidden = int(backbone.config.hidden_size)
        allowed = _block_diagonal(self.tag_sets, self.settings.scheme) if self.settings.head == "crf" else None
        self.module = BackboneTagger(
            backbone, hidden, len(self.tags), self.settings.dropout, pooling=self.settings.pooling, crf_allowed=allowed
        )
        self._prefix, self._suffix = _special_tokens(tokenizer)
        self._corpus_prefixes = {}
        if self.settings.corpus_prefix and len(self.tag_sets) > 1:
            self._corpus_prefixes = {s.corpus: _name_tokens(tokenizer, s.corpus) for s in self.tag_sets}
        longest = max((len(p) for p in self._corpus_prefixes.values()), default=0)
        if self.settings.max_length - len(self._prefix) - len(self._suffix) - longest < 2:
            raise BionerError(f"model.max_length {self.settings.max_length} leaves no room for words")

    def save(self, folder: str | Path) -> Path:
        """Weights (safetensors) and their int8 calibration, tokenizer, backbone config, tags and resolved config."""
        module = self._ready()
        target = Path(folder)
        (target / BACKBONE_DIR).mkdir(parents=True, exist_ok=True)
        self._backbone_config.save_pretrained(target / BACKBONE_DIR)
        self.tokenizer.save_pretrained(target / BACKBONE_DIR)
        with atomic_path(target / WEIGHTS_FILE) as tmp:
            save_model(module, str(tmp))
        self.save_int8_calibration(target)
        saved: dict[str, Any] = {"scheme": self.settings.scheme, "tags": self.tags}
        if len(self.tag_sets) > 1:
            saved["labels_by_corpus"] = {s.corpus: list(s.labels) for s in self.tag_sets}
        return save_model_files(target, self.settings, self.provenance, {TAGS_FILE: saved})

    @classmethod
    def from_pretrained(cls, name_or_folder: str | Path, *, runtime: Runtime | None = None) -> Self:
        """A saved tagger, from local files only (no network, no remote code)."""
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        folder = Path(name_or_folder)
        require_files(folder, (TAGS_FILE, WEIGHTS_FILE, BACKBONE_DIR), "an encoder")
        _, settings, tables = saved_settings(folder)
        assert isinstance(settings, EncoderSettings)
        saved = read_json(folder / TAGS_FILE, ("tags",))
        options: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
        try:
            with quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(folder / BACKBONE_DIR, **options)
                backbone_config = AutoConfig.from_pretrained(folder / BACKBONE_DIR, **options)
                backbone = AutoModel.from_config(backbone_config)  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as err:
            raise BionerError(f"{folder}: cannot load the backbone: {first_line(err)}") from None
        tagger = cls(settings, runtime or saved_runtime(tables))
        tagger.provenance = tables
        tagger.attach(tokenizer, backbone, saved.get("labels_by_corpus"))
        if tagger.tags != saved["tags"]:
            raise BionerError(f"{folder}: {TAGS_FILE} does not match the labels in its config.toml")
        tagger.restore(folder)
        return tagger

    def restore(self, folder: str | Path) -> None:
        """The weights saved in ``folder`` put back into this tagger's model, with their int8 calibration if any."""
        module = self._ready()
        path = Path(folder) / WEIGHTS_FILE
        with reading_weights(path):
            load_model(module, path)
        module.eval()
        calibration = Path(folder) / CALIBRATION_FILE
        self.int8_calibration = None
        if calibration.exists():
            with reading_weights(calibration, "int8 calibration"):
                self.int8_calibration = load_file(calibration)

    def save_int8_calibration(self, folder: str | Path) -> None:
        """The int8 calibration written beside the weights in ``folder`` (which :meth:`save` wrote), or removed
        when there is none: a calibration left from other weights would smooth these wrongly."""
        path = Path(folder) / CALIBRATION_FILE
        if self.int8_calibration is None:
            path.unlink(missing_ok=True)
            return
        with atomic_path(path) as tmp:
            save_file(self.int8_calibration, str(tmp))

    def calibrate_int8(self, docs: Sequence[Document]) -> None:
        """Activation maxima for int8 prediction from the first windows of ``docs`` (:meth:`save_int8_calibration`
        keeps them).

        The first :data:`CALIBRATION_WINDOWS` windows in document order, run in fp32 on the model's device:
        the same documents give the same calibration, whatever else the machine is doing.
        """
        module = self._ready()
        segments: list[Segment] = []
        for start in range(0, len(docs), 32):  # no more of a large corpus tokenized than needed
            segments += self.featurize(docs[start : start + 32], gold=False, report=None)[1]
            if len(segments) >= CALIBRATION_WINDOWS:
                break
        chosen = segments[:CALIBRATION_WINDOWS]
        size, pad, device = self.runtime.batch_size, pad_id(self.tokenizer), next(module.parameters()).device
        batches = (collate(chosen[i : i + size], pad) for i in range(0, len(chosen), size))
        on_device = ({k: v.to(device) for k, v in batch.items()} for batch in batches)
        self.int8_calibration = {k: v.cpu() for k, v in input_maxima(module, on_device).items()}

    def _ready(self) -> BackboneTagger:
        if self.module is None:
            raise BionerError("the tagger has no model yet: train it or load one")
        return self.module

    # -- training ------------------------------------------------------------------------------

    def prepare(self, data: TrainingData, report: Report) -> TrainingTask:
        """A fresh model for ``data``'s labels (one tag set per corpus) and its training segments."""
        self.settings = dataclasses.replace(self.settings, labels=data.labels)
        self.build(data.labels_by_corpus, report)
        module = self._ready()
        docs = list(data.documents)
        for name, samples in data.dense.items():  # VANER's DBR; each dense sentence trains its corpus's tag set
            wanted = data.labels_by_corpus[name]
            docs += [with_corpus(sample.document(wanted, f"dbr:{i}"), name) for i, sample in enumerate(samples)]
        _, segments = self.featurize(docs, gold=True, report=report)
        return training_task(module, segments, pad_id(self.tokenizer), collate, segment_loss)

    # -- prediction ----------------------------------------------------------------------------

    @collector_paused
    def predict(
        self,
        docs: Iterable[Document],
        *,
        labels: Sequence[str] | None = None,
        report: Report | None = None,
        progress: bool = False,
    ) -> list[Document]:
        """The documents with predicted entities (with scores) in place of their own.

        ``labels`` keeps only those of the model's labels; a label it was not trained on is an error.
        """
        wanted = check_labels(labels, self.labels, "encoder")
        documents = list(docs)
        sentences, segments = self.featurize(documents, gold=False, report=report)
        scores = score_segments(
            self._ready(),
            segments,
            n_tags=len(self.tags),
            pad=pad_id(self.tokenizer),
            batch_size=self.runtime.batch_size,
            device_name=self.runtime.device,
            precision=self.runtime.precision,
            calibration=self.int8_calibration,
            progress=progress,
        )
        # per tag set, the sentences to decode with it and their scores (renormalised over that set)
        work: dict[int, tuple[list[_Sentence], list[npt.NDArray[np.float32]]]] = {}
        for sentence in sentences:
            rows = scores[sentence.first_segment : sentence.first_segment + len(sentence.windows)]
            merged = merge_windows(sentence.windows, rows, len(sentence.tokens))
            for tag_set in [sentence.tag_set] if sentence.tag_set is not None else self.tag_sets:
                part = merged[:, tag_set.start : tag_set.stop]
                if len(self.tag_sets) > 1:  # a softmax over this set alone
                    part = part - np.logaddexp.reduce(part, axis=1, keepdims=True)
                entry = work.setdefault(tag_set.start, ([], []))
                entry[0].append(sentence)
                entry[1].append(part)
        scheme = self.settings.scheme
        found: list[list[Entity]] = [[] for _ in documents]
        crf = self._ready().crf
        for tag_set in self.tag_sets:
            members, parts = work.get(tag_set.start, ([], []))
            learned = (
                None
                if crf is None
                else crf.transition_scores()[tag_set.start : tag_set.stop, tag_set.start : tag_set.stop]
            )
            paths = viterbi_batch(parts, tag_set.tags, scheme, learned=learned)
            for sentence, part, path in zip(members, parts, paths, strict=True):
                probs = np.exp(part[np.arange(len(path)), path]).tolist()
                tags = [tag_set.tags[i] for i in path]
                text = documents[sentence.doc].text
                found[sentence.doc].extend(decode(sentence.tokens, tags, text, scheme, scores=probs))
        if len(self.tag_sets) > 1:
            found = [_best_of_duplicates(entities) for entities in found]
        if wanted is not None:
            found = [[e for e in entities if e.label in wanted] for entities in found]
        return [doc.with_entities(entities) for doc, entities in zip(documents, found, strict=True)]

    # -- documents to model inputs -------------------------------------------------------------

    def featurize(
        self, docs: Sequence[Document], *, gold: bool, report: Report | None
    ) -> tuple[list[_Sentence], list[Segment]]:
        """Sentences (word spans and windows) and their segments; gold tags only when ``gold``."""
        self._ready()
        scheme = self.settings.scheme
        budget = self.settings.max_length - len(self._prefix) - len(self._suffix)
        counts = Report()
        planned: list[tuple[int, TokenView, TagSet | None]] = []
        for d, doc in enumerate(docs):
            tag_set = self._tag_set_of(doc)
            if tag_set is None:
                if gold:
                    raise BionerError(f"document {doc.id} comes from no corpus the model has a tag set for")
                counts.warn(UNSEEN_CORPUS)
            source = doc if gold else doc.with_entities(())
            for span in sentence_regions(source, counts):
                planned.append((d, encode(source, scheme, span, report=counts), tag_set))
        if report is not None:
            report.merge(counts)
        if not planned:
            return [], []
        # one tokenizer call for every sentence: the fast tokenizer batches (and parallelises) it in Rust
        words = [[docs[d].text[s:e] for s, e in view.tokens] for d, view, _ in planned]
        encoded = self.tokenizer(words, is_split_into_words=True, add_special_tokens=False)
        tag_ids = {s.start: {tag: s.start + i for i, tag in enumerate(s.tags)} for s in self.tag_sets}
        counts = Report()
        streams: dict[int, list[int]] = {}  # each document's sub-tokens, sentence after sentence
        placed: list[_Planned] = []
        for v, (d, view, tag_set) in enumerate(planned):
            pieces = _word_pieces(encoded["input_ids"][v], encoded.word_ids(v), len(view.tokens))
            stream = streams.setdefault(d, [])
            offsets = []
            for piece in pieces:
                if not piece:
                    piece.append(self.tokenizer.unk_token_id)
                    counts.warn(NO_PIECES)
                if len(piece) > budget:
                    del piece[budget:]
                    counts.warn(LONG_WORDS)
                offsets.append(len(stream))
                stream.extend(piece)
            placed.append(_Planned(d, view, tag_set, pieces, [*offsets, len(stream)]))
        sentences: list[_Sentence] = []
        segments: list[Segment] = []
        for sentence in placed:
            tag_set = sentence.tag_set
            lead = self._corpus_prefixes.get(tag_set.corpus, []) if tag_set is not None else []
            room = budget - len(lead)
            windows = plan_windows([len(p) for p in sentence.pieces], room, self.settings.window_overlap)
            if len(windows) > 1:
                counts.warn(WINDOWED)
            if gold and tag_set is not None:
                labels = [tag_ids[tag_set.start][t] for t in sentence.view.tags]
            else:
                labels = [-100] * len(sentence.view.tags)
            tag_range = (tag_set.start, tag_set.stop) if tag_set and len(self.tag_sets) > 1 else None
            sentences.append(_Sentence(sentence.doc, sentence.view.tokens, tuple(windows), len(segments), tag_set))
            stream = streams[sentence.doc]
            for ws, we in windows:
                first, last = sentence.offsets[ws], sentence.offsets[we]
                left, right = _context_sizes(self.settings.context, room - (last - first), first, len(stream) - last)
                segment = self._segment(
                    sentence.pieces[ws:we],
                    labels[ws:we],
                    tag_range,
                    lead + stream[first - left : first],
                    stream[last : last + right],
                )
                segments.append(segment)
        if report is not None:
            report.merge(counts)
        return sentences, segments

    def _tag_set_of(self, doc: Document) -> TagSet | None:
        """The tag set for ``doc``: the only one, or its corpus's; None for a corpus the model never saw."""
        if len(self.tag_sets) == 1:
            return self.tag_sets[0]
        name = corpus_of(doc)
        return next((s for s in self.tag_sets if s.corpus == name), None)

    def _segment(
        self,
        pieces: Sequence[list[int]],
        labels: list[int],
        tag_range: tuple[int, int] | None,
        before: list[int],
        after: list[int],
    ) -> Segment:
        """Specials, ``before`` (corpus name, left context), the window's words, ``after`` (right context), specials."""
        input_ids = [*self._prefix, *before]
        word_index, word_end = [], []
        for piece in pieces:
            word_index.append(len(input_ids))
            input_ids.extend(piece)
            word_end.append(len(input_ids))
        input_ids.extend(after)
        input_ids.extend(self._suffix)
        return Segment(input_ids, word_index, labels, tag_range, word_end if self.settings.pooling == "mean" else [])


def _context_sizes(wanted: int, room: int, before: int, after: int) -> tuple[int, int]:
    """Sub-tokens of context to put left and right of a window: up to ``wanted`` each, within ``room``."""
    if wanted <= 0 or room <= 0:
        return 0, 0
    left = min(wanted, before, room // 2 if after else room)
    return left, min(wanted, after, room - left)


def _block_diagonal(sets: Sequence[TagSet], scheme: str) -> npt.NDArray[np.bool_]:
    """The transitions a CRF may learn: those the scheme allows within one corpus's tag set, none across sets."""
    size = sets[-1].stop
    allowed = np.zeros((size, size), dtype=bool)
    for tag_set in sets:
        allowed[tag_set.start : tag_set.stop, tag_set.start : tag_set.stop] = allowed_transitions(tag_set.tags, scheme)[
            1
        ]
    return allowed


def _name_tokens(tokenizer: Any, name: str) -> list[int]:
    """A corpus name as sub-tokens, with the separator token after it when the tokenizer has one."""
    ids = list(tokenizer([name], is_split_into_words=True, add_special_tokens=False)["input_ids"])
    separator = tokenizer.sep_token_id
    return ids + ([int(separator)] if separator is not None else [])


def _word_pieces(ids: Sequence[int], word_ids: Sequence[int | None], n_words: int) -> list[list[int]]:
    pieces: list[list[int]] = [[] for _ in range(n_words)]
    for piece, word in zip(ids, word_ids, strict=True):
        if word is not None:
            pieces[word].append(piece)
    return pieces


def _special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after a sequence ([CLS] ... [SEP], <s> ... </s>)."""
    encoded = tokenizer(["x"], is_split_into_words=True, add_special_tokens=True)
    ids, words = list(encoded["input_ids"]), encoded.word_ids()
    inside = [i for i, w in enumerate(words) if w is not None]
    return ids[: inside[0]], ids[inside[-1] + 1 :]


def _window_limit(tokenizer: Any, backbone: Any, wanted: int) -> int:
    limits = [wanted]
    if 0 < tokenizer.model_max_length < 100_000:
        limits.append(int(tokenizer.model_max_length))
    positions = getattr(backbone.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style embeddings number positions from padding_idx + 1, so fewer fit
        offset = getattr(getattr(backbone, "embeddings", None), "padding_idx", None)
        limits.append(positions - (offset + 1 if isinstance(offset, int) else 0))
    return min(limits)


def _best_of_duplicates(entities: Sequence[Entity]) -> list[Entity]:
    """One entity per span and label (the best-scored), when several tag sets found the same mention."""
    best: dict[tuple[int, int, str], Entity] = {}
    for entity in entities:
        key = (entity.start, entity.end, entity.label)
        if key not in best or (entity.score or 0.0) > (best[key].score or 0.0):
            best[key] = entity
    return list(best.values())
