"""The ``span`` backend: GLiNER (the ``gliner`` library) scores word spans against label names.

A span model reads the names of the labels it is asked for, so it tags types it was never
trained on (``labels=[...]`` at prediction time). bioner builds a fresh GLiNER on any local
encoder (``model.backbone``: the packaged MiniLM, a folder) or starts from a published GLiNER
(``model.pretrained``: a hub name such as ``urchade/gliner_medium-v2.1``, or a local folder),
and fine-tunes it through the shared recipe with GLiNER's own collator and loss.

GLiNER truncates input past ``max_len`` words with only a warning (urchade/GLiNER #378, #231,
#185). Here a document is cut into windows of whole sentences that hold at most ``max_len``
words and fit the backbone's sub-token limit with the label prompt in front; a sentence longer
than a window is cut between words, with ``window_overlap`` words shared by consecutive
windows. Every candidate span is kept from the window where its first word has the most
context, mapped back to document character offsets, and the document's spans are chosen by
GLiNER's own greedy search (flat by default, nested on request). The number of windows goes
to the :class:`~bioner.errors.Report`.

A saved model is one folder: ``model.safetensors``, ``gliner_config.json`` and the tokenizer
(GLiNER's ``save_pretrained`` with safetensors), ``labels.json`` (labels and their prompts) and
``config.toml``. Loading reads local files only and runs no remote code.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np

from bioner.backbones import DEFAULT_BACKBONE, resolve_backbone
from bioner.corpora.naming import corpus_of
from bioner.errors import BionerError, Report
from bioner.extras import need
from bioner.models.base import BackendSettings, Runtime, TrainingData, TrainingTask
from bioner.models.registry import read_model_config, register, saved_runtime, settings_from
from bioner.models.segments import (
    collector_paused,
    first_line,
    quiet_loading,
    read_json,
    reading_weights,
    save_model_files,
    sentence_regions,
    windowing_tokenizer,
)
from bioner.models.windows import merge_windows
from bioner.progress import progress_bar
from bioner.text import tokenize
from bioner.types import Document, Entity, Span

WEIGHTS_FILE = "model.safetensors"
GLINER_CONFIG = "gliner_config.json"
LABELS_FILE = "labels.json"
WINDOWS = "span windows (at most max_len words and the backbone's sub-token limit each)"
CUT_SENTENCES = "sentences longer than one window (tagged in overlapping windows)"
LONG_WORDS = "words longer than the sub-token room of a window (only their first sub-tokens are read)"
WIDE = "training entities wider than model.max_width words (a span model cannot learn them)"
CUT_ENTITIES = "training entities that no window holds whole (cut by a window edge)"
UNALIGNED = "training entities whose boundaries fall inside a word"
GLINER_ENCODER = "model.token_rep_layer."
"""Where GLiNER keeps its encoder (its trainer's ``others_lr`` applies to everything else)."""


@dataclass
class SpanSettings(BackendSettings):
    """``[model]`` of the ``span`` backend."""

    backbone: str = DEFAULT_BACKBONE
    """The encoder of a fresh GLiNER: a local folder, a packaged model's name or a hub name."""
    pretrained: str = ""
    """A published GLiNER to start from instead (hub name or local folder); empty: a fresh one on ``backbone``."""
    labels: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    """``"LABEL=natural-language name"`` items: what the model reads for a corpus label (default: the label)."""
    threshold: float = 0.5
    """Minimum span score (a sigmoid probability) to keep a span."""
    max_width: int = 12
    """Widest span scored, in words."""
    max_len: int = 384
    """Words per window (GLiNER's ``max_len``); longer text is windowed, never truncated."""
    window_overlap: int = 32
    """Words shared by consecutive windows of a sentence longer than one window."""
    nested: bool = False
    """Keep nested spans (GLiNER's ``flat_ner=False``); default flat: the best-scored of overlapping spans."""
    hidden_size: int = 512
    """Width of the span and label representations of a fresh GLiNER."""
    dropout: float = 0.4
    """Dropout of a fresh GLiNER's span and label layers."""
    focal_alpha: float = 0.75
    """Focal loss alpha (GLiNER's ``focal_loss_alpha``, 0.75 in its fine-tuning example); -1: no balancing.
    With plain cross-entropy (-1 and gamma 0) a fresh GLiNER scored no span above 0.5 after a short schedule."""
    focal_gamma: float = 2.0
    """Focal loss gamma (2 in GLiNER's fine-tuning example); 0 with alpha -1: plain binary cross-entropy."""

    def problems(self) -> list[str]:
        problems = []
        if not 0.0 < self.threshold < 1.0:
            problems.append(f"model.threshold must be in (0, 1), got {self.threshold}")
        if self.max_width < 1:
            problems.append(f"model.max_width must be at least 1, got {self.max_width}")
        if self.max_len < 2:
            problems.append(f"model.max_len must be at least 2, got {self.max_len}")
        if not 0 <= self.window_overlap <= self.max_len // 2:
            problems.append(f"model.window_overlap must be between 0 and max_len / 2, got {self.window_overlap}")
        if self.hidden_size < 1:
            problems.append(f"model.hidden_size must be at least 1, got {self.hidden_size}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"model.dropout must be in [0, 1), got {self.dropout}")
        if self.focal_gamma < 0:
            problems.append(f"model.focal_gamma must not be negative, got {self.focal_gamma}")
        bad = [item for item in self.prompts if not _split_prompt(item)]
        if bad:
            problems.append(f"model.prompts items are 'LABEL=name', got {bad[0]!r}")
        return problems

    def prompt_map(self) -> dict[str, str]:
        """Corpus label -> the name the model reads."""
        return dict(pair for pair in map(_split_prompt, self.prompts) if pair)


def _split_prompt(item: str) -> tuple[str, str] | None:
    label, sep, name = item.partition("=")
    return (label.strip(), name.strip()) if sep and label.strip() and name.strip() else None


@dataclass(frozen=True)
class SpanWindow:
    """A run of a document's words given to the model at once."""

    doc: int
    first: int
    """Index of its first word among the document's words."""
    words: tuple[Span, ...]
    owned: tuple[bool, ...]
    """Per word: whether a span starting there is taken from this window (its best-context window)."""
    prompts: tuple[str, ...]
    ner: tuple[tuple[int, int, str], ...] = ()
    """Gold spans (window word indices, end inclusive, prompt) for training."""


@register("span", SpanSettings)
class SpanTagger:
    """GLiNER span classification: any label by name, long documents windowed, flat or nested output."""

    def __init__(self, settings: SpanSettings | None = None, runtime: Runtime | None = None) -> None:
        self.settings = settings or SpanSettings()
        self.runtime = runtime or Runtime()
        self.provenance: dict[str, Any] = {}
        self.gliner: Any = None
        self.labels_by_corpus: dict[str, list[str]] = {}

    @property
    def labels(self) -> list[str]:
        return list(self.settings.labels)

    # -- building, saving, loading -------------------------------------------------------------

    def build(self) -> None:
        """A published GLiNER (``settings.pretrained``) or a fresh one on ``settings.backbone``."""
        gliner = need("gliner", "span", "the span backend")
        if self.settings.pretrained:
            self.gliner = _load_gliner(self.settings.pretrained, self.settings)
            return
        source = resolve_backbone(self.settings.backbone)
        config = gliner.GLiNERConfig(
            model_name=source,
            max_width=self.settings.max_width,
            max_len=self.settings.max_len,
            hidden_size=self.settings.hidden_size,
            dropout=self.settings.dropout,
        )
        try:
            with _quiet_gliner():
                self.gliner = gliner.GLiNER.from_config(config)
        except (OSError, ValueError) as err:
            raise BionerError(
                f"cannot build a GLiNER on backbone {self.settings.backbone!r}: {first_line(err)}"
            ) from None

    def save(self, folder: str | Path) -> Path:
        """GLiNER's safetensors weights, config and tokenizer, the labels and prompts, and ``config.toml``."""
        model = self._ready()
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".gliner.", dir=target))
        try:  # written beside, then moved in: a crash never leaves half a model in the folder
            with _quiet_gliner():
                model.save_pretrained(staging, safe_serialization=True)
            for item in staging.iterdir():
                if (target / item.name).is_dir():
                    shutil.rmtree(target / item.name)
                os.replace(item, target / item.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        saved = {
            "labels": self.labels,
            "prompts": self.settings.prompt_map(),
            "labels_by_corpus": self.labels_by_corpus,
        }
        return save_model_files(target, self.settings, self.provenance, {LABELS_FILE: saved})

    @classmethod
    def from_pretrained(cls, name_or_folder: str | Path, *, runtime: Runtime | None = None) -> Self:
        """A bioner span folder, or a published GLiNER (hub name or folder) used zero-shot with default settings."""
        folder = Path(name_or_folder).expanduser()
        if (folder / LABELS_FILE).is_file():
            tables = read_model_config(folder)
            model = dict(tables.get("model", {}))
            model.pop("backend", None)
            settings = settings_from("span", model, str(folder / "config.toml"), saved=True)
            assert isinstance(settings, SpanSettings)
            tagger = cls(settings, runtime or saved_runtime(tables))
            tagger.provenance = tables
            saved = read_json(folder / LABELS_FILE, ("labels",))
            tagger.labels_by_corpus = dict(saved.get("labels_by_corpus", {}))
            tagger.gliner = _load_gliner(str(folder), settings, local=True)
            return tagger
        tagger = cls(SpanSettings(pretrained=str(name_or_folder)), runtime)
        tagger.gliner = _load_gliner(str(name_or_folder), tagger.settings)
        tagger.settings = dataclasses.replace(
            tagger.settings, max_width=int(tagger.gliner.config.max_width), max_len=int(tagger.gliner.config.max_len)
        )
        return tagger

    def restore(self, folder: str | Path) -> None:
        """The weights saved in ``folder`` put back into this model."""
        from safetensors.torch import load_file

        model = self._ready()
        path = Path(folder) / WEIGHTS_FILE
        with reading_weights(path):
            model.model.load_state_dict(load_file(path), strict=True)
        model.eval()

    def _ready(self) -> Any:
        if self.gliner is None:
            raise BionerError("the span model has no GLiNER yet: train it or load one")
        return self.gliner

    # -- training ------------------------------------------------------------------------------

    def prepare(self, data: TrainingData, report: Report) -> TrainingTask:
        """GLiNER for ``data``'s labels; one example per window, with every label of its corpus as a prompt."""
        import torch

        self.settings = dataclasses.replace(self.settings, labels=data.labels)
        self.labels_by_corpus = {name: list(labels) for name, labels in data.labels_by_corpus.items()}
        self.build()
        model = self._ready()
        docs = list(data.documents)
        groups = [corpus_of(d, "") or "" for d in docs]
        for name, samples in data.dense.items():  # VANER's DBR sentences train their corpus's labels
            wanted = data.labels_by_corpus[name]
            docs += [sample.document(wanted, f"dbr:{i}") for i, sample in enumerate(samples)]
            groups += [name] * len(samples)
        single = next(iter(self.labels_by_corpus.values())) if len(self.labels_by_corpus) == 1 else None
        labels_of = [single if single is not None else self.labels_by_corpus.get(g, data.labels) for g in groups]
        _, examples = self.windows(docs, labels_of, report, gold=True)
        collator = model.data_collator_class(model.config, data_processor=model.data_processor, prepare_labels=True)
        items = [
            {
                "tokenized_text": _words_text(docs[w.doc], w.words),
                "ner": [list(x) for x in w.ner],
                "ner_labels": list(w.prompts),
            }
            for w in examples
        ]
        loss_options = {"alpha": self.settings.focal_alpha, "gamma": self.settings.focal_gamma, "reduction": "sum"}

        def collate(batch: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
            collated = collator(list(batch))
            return {k: v for k, v in collated.items() if isinstance(v, torch.Tensor)}

        def loss(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            result: torch.Tensor = model(**batch, **loss_options).loss
            return result

        return TrainingTask(
            module=model,
            examples=items,
            lengths=[len(w.words) for w in examples],
            collate=collate,
            loss=loss,
            backbone=GLINER_ENCODER,
        )

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
        """The documents with the spans of ``labels`` (any names; default: the trained labels), with scores."""
        import torch
        from gliner.decoding.decoder import Span as GlinerSpan

        from bioner.models.device import autocast, resolve_device, use_bf16

        model = self._ready()
        wanted = list(dict.fromkeys(labels if labels is not None else self.labels))
        if not wanted:
            raise BionerError("labels: this span model has no trained labels; name the labels to tag")
        prompts = self.settings.prompt_map()
        asked = [prompts.get(label, label) for label in wanted]
        if len(set(asked)) < len(asked):
            raise BionerError(f"labels: two labels read the same prompt ({', '.join(asked)})")
        label_of = dict(zip(asked, wanted, strict=True))
        documents = list(docs)
        words, windows = self.windows(documents, [wanted] * len(documents), report, gold=False)
        device = resolve_device(self.runtime.device)
        # Not bioner's CPU-bf16 default: under CPU bf16 autocast GLiNER's LSTM made prediction take 2.3 times
        # the CPU time of fp32 (BENCHMARKS.md), so "auto" is bf16 on a GPU only, as in training.
        bf16 = use_bf16(self.runtime.precision, device)
        model.to(device)
        model.eval()
        collator = model.create_collator()
        candidates: list[list[Any]] = [[] for _ in documents]
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].words))
        bar = progress_bar(unit="window", enabled=progress)
        with bar, torch.inference_mode(), _quiet_gliner():
            task = bar.add_task("predict", total=len(windows), info="")
            for start in range(0, len(order), self.runtime.batch_size):
                chosen = [windows[i] for i in order[start : start + self.runtime.batch_size]]
                inputs = [{"tokenized_text": _words_text(documents[w.doc], w.words), "ner": None} for w in chosen]
                batch = collator(inputs, entity_types=list(asked))
                tensors = {k: v.to(device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
                with autocast(device, bf16):
                    logits = model.model(**tensors).logits
                probs = torch.sigmoid(logits.float()).cpu().numpy()
                for row, window in enumerate(chosen):
                    for s, k, c in zip(*np.nonzero(probs[row] > self.settings.threshold), strict=True):
                        s, k, c = int(s), int(k), int(c)
                        if s + k >= len(window.words) or not window.owned[s] or c >= len(asked):
                            continue
                        first = window.first + s
                        candidates[window.doc].append(
                            GlinerSpan(first, first + k, asked[c], float(probs[row, s, k, c]))
                        )
                bar.update(task, advance=len(chosen))
        found = []
        for doc, spans_of, spans in zip(documents, words, candidates, strict=True):
            kept = model.decoder.greedy_search(spans, flat_ner=not self.settings.nested, multi_label=False)
            entities = []
            for span in kept:
                start, end = spans_of[span.start][0], spans_of[span.end][1]
                entities.append(Entity(start, end, label_of[span.entity_type], doc.text[start:end], score=span.score))
            found.append(doc.with_entities(entities))
        return found

    # -- documents to windows ------------------------------------------------------------------

    def windows(
        self, docs: Sequence[Document], labels: Sequence[Sequence[str]], report: Report | None, *, gold: bool
    ) -> tuple[list[list[Span]], list[SpanWindow]]:
        """Every document's words, and its windows with the prompts of its ``labels`` (and, when ``gold``,
        the spans to learn, in window word indices)."""
        counts = Report()
        prompt_of = self.settings.prompt_map()
        all_words: list[list[Span]] = []
        out: list[SpanWindow] = []
        for d, doc in enumerate(docs):
            prompts = tuple(prompt_of.get(label, label) for label in labels[d])
            words, planned = self._plan(doc, prompts, counts, gold=gold)
            all_words.append(words)
            owner = _owners(planned, len(words))
            spans = self._gold_spans(doc, words, dict(zip(labels[d], prompts, strict=True)), counts) if gold else []
            held: set[int] = set()
            for w, (first, last) in enumerate(planned):
                ner = []
                for i, (s, e, prompt) in enumerate(spans):
                    if first <= s and e < last:
                        ner.append((s - first, e - first, prompt))
                        held.add(i)
                owned = tuple(owner[i] == w for i in range(first, last))
                out.append(SpanWindow(d, first, tuple(words[first:last]), owned, prompts, tuple(ner)))
            counts.lose(CUT_ENTITIES, len(spans) - len(held))
        counts.warn(WINDOWS, len(out))
        if report is not None:
            report.merge(counts)
        return all_words, out

    def _plan(
        self, doc: Document, prompts: Sequence[str], report: Report, *, gold: bool
    ) -> tuple[list[Span], list[tuple[int, int]]]:
        """The document's words (cut at entity boundaries when ``gold``) and its windows."""
        source = doc if gold else doc.with_entities(())
        cuts = [x for e in source.entities for x in (e.start, e.end)]
        words: list[Span] = []
        sentence_starts: set[int] = set()
        for start, end in sentence_regions(source, Report()):
            sentence_starts.add(len(words))
            words.extend(tokenize(doc.text, cuts, start, end))
        costs = self._subtokens(doc, words)
        room = self._room(prompts)
        report.warn(LONG_WORDS, sum(c > room for c in costs))
        windows, cut = plan_span_windows(
            [min(c, room) for c in costs], sentence_starts, self.settings.max_len, room, self.settings.window_overlap
        )
        report.warn(CUT_SENTENCES, cut)
        return words, windows

    def _gold_spans(
        self, doc: Document, words: Sequence[Span], prompts: dict[str, str], report: Report
    ) -> list[tuple[int, int, str]]:
        """The document's entities as (first word, last word, prompt); those a span model cannot hold are counted."""
        starts = {s: i for i, (s, _) in enumerate(words)}
        ends = {e: i for i, (_, e) in enumerate(words)}
        spans = []
        for entity in doc.entities:
            first, last = starts.get(entity.start), ends.get(entity.end)
            if entity.label not in prompts:
                continue
            if first is None or last is None:
                report.lose(UNALIGNED)
            elif last - first >= self.settings.max_width:
                report.lose(WIDE)
            else:
                spans.append((first, last, prompts[entity.label]))
        return spans

    def _subtokens(self, doc: Document, words: Sequence[Span]) -> list[int]:
        if not words:
            return []
        tokenizer = windowing_tokenizer(self._ready().data_processor.transformer_tokenizer)  # bioner windows it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encoded = tokenizer([doc.text[s:e] for s, e in words], is_split_into_words=True, add_special_tokens=False)
        counts = [0] * len(words)
        for word in encoded.word_ids():
            if word is not None:
                counts[word] += 1
        return [max(1, c) for c in counts]

    def _room(self, prompts: Sequence[str]) -> int:
        """Sub-tokens left for words once the special tokens and the label prompt are in."""
        model = self._ready()
        processor = model.data_processor
        tokenizer = processor.transformer_tokenizer
        prompt: list[str] = []
        for name in prompts:
            prompt += [processor.ent_token, name]
        prompt.append(processor.sep_token)
        used = len(tokenizer(prompt, is_split_into_words=True, add_special_tokens=True)["input_ids"])
        room = _subtoken_limit(model) - used
        if room < 1:
            raise BionerError(f"the label prompt ({len(prompts)} labels) fills the backbone's whole input")
        return room


def plan_span_windows(
    costs: Sequence[int], sentence_starts: set[int], max_words: int, room: int, overlap: int
) -> tuple[list[tuple[int, int]], int]:
    """Word ranges covering every word: whole sentences where they fit, else cuts between words with overlap.

    Each window holds at most ``max_words`` words and ``room`` sub-tokens (``costs``, each at most
    ``room``). A window ends at the last sentence start it reaches; a sentence longer than a window
    is cut between words, and the next window starts ``overlap`` words before the cut. Also
    returns how many sentences were cut.
    """
    n = len(costs)
    windows: list[tuple[int, int]] = []
    cut_sentences: set[int] = set()
    start = 0
    while start < n:
        end, used = start, 0
        while end < n and end - start < max_words and used + costs[end] <= room:
            used += costs[end]
            end += 1
        if end == n:
            windows.append((start, end))
            break
        boundary = max((s for s in sentence_starts if start < s <= end), default=None)
        if boundary is not None:
            windows.append((start, boundary))
            start = boundary
            continue
        windows.append((start, end))
        cut_sentences.add(max((s for s in sentence_starts if s <= start), default=0))
        start = max(end - overlap, start + 1)
    return windows, len(cut_sentences)


def _owners(windows: Sequence[tuple[int, int]], n_words: int) -> list[int]:
    """Per word, the window where it has the most context (the shared rule of :mod:`bioner.models.windows`)."""
    if not windows:
        return []
    scores = [np.full((end - start, 1), w, dtype=np.float32) for w, (start, end) in enumerate(windows)]
    return [int(x) for x in merge_windows(windows, scores, n_words)[:, 0]]


def _words_text(doc: Document, words: Sequence[Span]) -> list[str]:
    return [doc.text[s:e] for s, e in words]


def _subtoken_limit(model: Any) -> int:
    """The backbone's input limit in sub-tokens: its tokenizer's, its position table's (RoBERTa: less 2)."""
    limits = []
    tokenizer = model.data_processor.transformer_tokenizer
    if 0 < tokenizer.model_max_length < 100_000:
        limits.append(int(tokenizer.model_max_length))
    encoder = getattr(model.config, "encoder_config", None)
    positions = getattr(encoder, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        offset = 2 if getattr(encoder, "model_type", "") in {"roberta", "xlm-roberta", "camembert"} else 0
        limits.append(positions - offset)
    return min(limits) if limits else 512


def _load_gliner(name: str, settings: SpanSettings, *, local: bool = False) -> Any:
    """``GLiNER.from_pretrained`` with bioner's one-line errors (a hub name needs the hub)."""
    gliner = need("gliner", "span", "the span backend")
    try:
        with _quiet_gliner():
            return gliner.GLiNER.from_pretrained(name, local_files_only=local or Path(name).is_dir())
    except (OSError, ValueError, KeyError) as err:
        raise BionerError(f"cannot load GLiNER {name!r}: {first_line(err)}") from None


@contextmanager
def _quiet_gliner() -> Iterator[None]:
    """No truncation or resizing warnings from gliner/transformers: bioner windows and reports itself."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    try:
        with warnings.catch_warnings(), quiet_loading():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(level)
