"""The ``llm-tagger`` backend (VANER): a decoder LLM turned into a bidirectional B/I/O tagger.

Each input is an instruction naming the corpus and one entity type, then the sentence
(:mod:`bioner.models.instructions`); the decoder runs with its causal mask removed
(:mod:`bioner.models.bidirectional`), and the shared :class:`~bioner.models.head.WordHead`
tags each word, from its first sub-token, ``B``, ``I`` or ``O`` for that type. The loss
covers only the sentence's words. Only LoRA adapters on every linear layer (peft) and the
head are trained; on CUDA the frozen base can be 4-bit (QLoRA, bitsandbytes). Prediction
runs one pass per entity type and keeps every type's spans, overlaps included.

Sentences longer than ``model.max_length`` sub-tokens (instruction included) are tagged in
overlapping windows, decoded by constrained Viterbi, exactly as in the encoder backend.
A saved model is a folder with ``adapter/`` (peft adapters, safetensors), ``head.safetensors``,
``tokenizer/``, ``tags.json`` (entity types per corpus) and ``config.toml``; the base
model is loaded again from ``model.backbone``, never copied.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import torch
from safetensors.torch import load_file, save_file

from bioner.backbones import DEFAULT_DECODER
from bioner.corpora.naming import corpus_of, group_by_corpus
from bioner.errors import BionerError, Report
from bioner.extras import need
from bioner.files import atomic_path
from bioner.models import lora
from bioner.models.base import Runtime, TrainingData, TrainingTask
from bioner.models.bidirectional import make_bidirectional
from bioner.models.decoding import viterbi_batch
from bioner.models.head import BackboneTagger
from bioner.models.instructions import MODES, TAGS, Instance, dense_instance, instances_for
from bioner.models.registry import register, saved_runtime, saved_settings
from bioner.models.segments import (
    LONG_WORDS,
    NO_PIECES,
    WINDOWED,
    Segment,
    WordTaggerSettings,
    collate,
    collector_paused,
    pad_id,
    read_json,
    reading_weights,
    require_files,
    save_model_files,
    score_segments,
    segment_loss,
    training_task,
    windowing_tokenizer,
)
from bioner.models.windows import Window, merge_windows, plan_windows
from bioner.settings import choice_problems
from bioner.types import Document, Entity
from bioner.views import decode

HEAD_FILE = "head.safetensors"
TOKENIZER_DIR = "tokenizer"
TAGS_FILE = "tags.json"
UNSEEN = "documents of a corpus the model was not trained on (tagged with type-only instructions)"


ATTENTIONS = ("sdpa", "eager")
QUANTIZE = ("auto", "4bit", "none")


@dataclasses.dataclass
class LLMTaggerSettings(WordTaggerSettings):
    """``[model]`` of the ``llm-tagger`` backend."""

    backbone: str = DEFAULT_DECODER
    bidirectional: bool = True
    """Remove the decoder's causal mask in every layer (false keeps it, for the ablation)."""
    instruction: str = "corpus"
    """``corpus`` (instruction names corpus and entity type) or ``adapt`` (entity type only)."""
    attention: str = "sdpa"
    """The attention implementation, ``sdpa`` or ``eager``."""
    lora_r: int = 16
    """LoRA rank on every linear layer of the decoder."""
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    quantize: str = "auto"
    """``auto`` (4-bit QLoRA when CUDA and bitsandbytes are there), ``4bit`` or ``none``."""

    def problems(self) -> list[str]:
        problems = super().problems()
        choices = {"instruction": MODES, "attention": ATTENTIONS, "quantize": QUANTIZE}
        problems += choice_problems(self, "model", choices)
        return problems + lora.settings_problems(self)


@dataclasses.dataclass(frozen=True)
class _Window:
    """Where one window of one instance sits: which instance, which words."""

    instance: int
    words: Window


@register("llm-tagger", LLMTaggerSettings, legacy_keys=("scheme",))
class LLMTagger:
    """VANER-style instruction tagging with any Hugging Face decoder (Llama, Mistral, Qwen2, Gemma 3...)."""

    def __init__(self, settings: LLMTaggerSettings | None = None, runtime: Runtime | None = None) -> None:
        self.settings = settings or LLMTaggerSettings()
        self.runtime = runtime or Runtime()
        self.provenance: dict[str, Any] = {}
        self.tokenizer: Any = None
        self.module: BackboneTagger | None = None
        self.types: dict[str, list[str]] = {}
        """Entity types per training corpus (``""``: documents from files, with no corpus name)."""
        self._prefixes: dict[str, list[int]] = {}

    @property
    def labels(self) -> list[str]:
        return sorted({t for types in self.types.values() for t in types})

    # -- building, saving, loading -------------------------------------------------------------

    def _base_model(self, report: Report) -> tuple[Any, Any]:
        """Tokenizer and base decoder (``AutoModel``: no LM head), bidirectional unless configured causal."""
        from transformers import AutoModel

        settings = self.settings
        quantize = partial(_quantization, settings.quantize, report=report)
        tokenizer, base, quantized = lora.load_decoder(AutoModel, settings, self.runtime, quantize)
        if quantized:
            peft = need("peft", "llm", "the llm-tagger")
            base = peft.prepare_model_for_kbit_training(base, use_gradient_checkpointing=False)
        if settings.bidirectional:
            make_bidirectional(base)
        return tokenizer, base

    def attach(self, tokenizer: Any, base: Any, adapter: Path | None = None) -> None:
        """LoRA adapters (new, or the saved ones in ``adapter``) on ``base``, and a fresh head."""
        backbone = lora.with_adapters(need("peft", "llm", "the llm-tagger"), base, self.settings, adapter)
        self.tokenizer = windowing_tokenizer(tokenizer)
        self.module = BackboneTagger(backbone, int(base.config.hidden_size), len(TAGS), self.settings.dropout)
        self._prefixes = {}

    def save(self, folder: str | Path) -> Path:
        """Adapters, head, tokenizer, entity types and resolved config; not the base model."""
        module = self._ready()
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        lora.save_adapters(self.peft_model(), target)
        with atomic_path(target / HEAD_FILE) as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in module.head.state_dict().items()}, str(tmp))
        self.tokenizer.save_pretrained(target / TOKENIZER_DIR)
        tags = {"tags": list(TAGS), "instruction": self.settings.instruction, "types": self.types}
        return save_model_files(target, self.settings, self.provenance, {TAGS_FILE: tags})

    @classmethod
    def from_pretrained(cls, name_or_folder: str | Path, *, runtime: Runtime | None = None) -> Self:
        """A saved tagger: its base model from ``model.backbone``, then its adapters and head."""
        from transformers import AutoTokenizer

        folder = Path(name_or_folder)
        require_files(folder, (TAGS_FILE, HEAD_FILE, lora.ADAPTER_DIR, TOKENIZER_DIR), "an llm-tagger")
        _, settings, tables = saved_settings(folder)
        assert isinstance(settings, LLMTaggerSettings)
        tagger = cls(settings, runtime or saved_runtime(tables))
        tagger.provenance = tables
        types = read_json(folder / TAGS_FILE, ("types",))["types"]
        if not isinstance(types, dict):
            raise BionerError(f"{folder / TAGS_FILE}: 'types' must map corpora to entity types")
        _, base = tagger._base_model(Report())
        tokenizer = AutoTokenizer.from_pretrained(folder / TOKENIZER_DIR, local_files_only=True)
        tagger.attach(tokenizer, base, adapter=folder / lora.ADAPTER_DIR)
        tagger.types = types
        tagger._load_head(Path(folder))
        return tagger

    def _load_head(self, folder: Path) -> None:
        module = self._ready()
        path = folder / HEAD_FILE
        with reading_weights(path, "head"):
            module.head.load_state_dict(load_file(path))
        module.eval()

    def restore(self, folder: str | Path) -> None:
        """The adapters and head saved in ``folder`` put back into this tagger's model."""
        lora.restore_adapters(need("peft", "llm", "the llm-tagger"), self.peft_model(), folder)
        self._load_head(Path(folder))

    def peft_model(self) -> Any:
        """The backbone: the base model wrapped with its LoRA adapters (a ``PeftModel``)."""
        return self._ready().backbone

    def _ready(self) -> BackboneTagger:
        if self.module is None:
            raise BionerError("the tagger has no model yet: train it or load one")
        return self.module

    # -- training ------------------------------------------------------------------------------

    def prepare(self, data: TrainingData, report: Report) -> TrainingTask:
        """Adapters and a head for ``data``'s corpora and types, and one training instance per sentence and type.

        Knowledge-base sentences (DBR) become instances with type-only instructions, as VANER publishes them.
        """
        self.types = dict(data.labels_by_corpus)
        self.settings = dataclasses.replace(self.settings, labels=data.labels)
        tokenizer, base = self._base_model(report)
        self.attach(tokenizer, base)
        module = self._ready()
        instances: list[Instance] = []
        for name, docs in group_by_corpus(data.documents).items():
            mode = self.settings.instruction
            instances.extend(instances_for(docs, name or None, self.types[name], mode, report=report))
        for samples in data.dense.values():
            instances.extend(dense_instance(sample) for sample in samples)
        _, segments = self.featurize(instances, report)
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
        """The documents with predicted entities of every type their corpus has (overlaps kept, with scores).

        ``labels`` names the types to tag instead: those of a document's corpus keep the corpus
        instruction, any other type is asked for with a type-only instruction (VANER's ``adapt``).
        """
        self._ready()
        documents = list(docs)
        counts = Report()
        groups: dict[tuple[str | None, tuple[str, ...]], list[int]] = {}
        everything = tuple(labels) if labels is not None else tuple(self.labels)
        default = next(iter(self.types)) if len(self.types) == 1 else ""
        for i, doc in enumerate(documents):
            name = corpus_of(doc, default) or ""
            if self.settings.instruction == "corpus" and name in self.types:
                known = [t for t in self.types[name] if labels is None or t in labels]
                groups.setdefault((name or None, tuple(known)), []).append(i)
                rest = tuple(t for t in everything if t not in self.types[name]) if labels is not None else ()
                if rest:
                    groups.setdefault((None, rest), []).append(i)
                continue
            if self.settings.instruction == "corpus" and labels is None:
                counts.warn(UNSEEN)
            groups.setdefault((None, everything), []).append(i)
        instances: list[Instance] = []
        for (named, types), members in groups.items():
            part = [documents[i] for i in members]
            for x in instances_for(part, named, types, "corpus" if named else "adapt", gold=False, report=counts):
                instances.append(dataclasses.replace(x, doc=members[x.doc]))
        windows, segments = self.featurize(instances, counts)
        scores = score_segments(
            self._ready(),
            segments,
            n_tags=len(TAGS),
            pad=pad_id(self.tokenizer),
            batch_size=self.runtime.batch_size,
            device_name=self.runtime.device,
            precision=self.runtime.precision,
            progress=progress,
        )
        merged_scores: list[npt.NDArray[np.float32]] = []
        start = 0
        for i, instance in enumerate(instances):
            end = start
            while end < len(windows) and windows[end].instance == i:
                end += 1
            merged_scores.append(
                merge_windows([w.words for w in windows[start:end]], scores[start:end], len(instance.words))
            )
            start = end
        by_label: dict[str, list[int]] = {}
        for i, instance in enumerate(instances):
            by_label.setdefault(instance.label, []).append(i)
        found: list[list[Entity]] = [[] for _ in documents]
        for label, members in by_label.items():
            tags = [f"{t}-{label}" if t != "O" else t for t in TAGS]
            paths = viterbi_batch([merged_scores[i] for i in members], tags, "IOB2")
            for i, path in zip(members, paths, strict=True):
                instance = instances[i]
                probs = np.exp(merged_scores[i][np.arange(len(path)), path]).tolist()
                text = documents[instance.doc].text
                found[instance.doc].extend(decode(instance.spans, [tags[k] for k in path], text, "IOB2", scores=probs))
        if report is not None:
            report.merge(counts)
        return [doc.with_entities(entities) for doc, entities in zip(documents, found, strict=True)]

    # -- instances to model inputs -------------------------------------------------------------

    def featurize(self, instances: Sequence[Instance], report: Report) -> tuple[list[_Window], list[Segment]]:
        """Each instance cut into windows of whole words, each window behind the instance's instruction."""
        settings = self.settings
        tag_id = {t: i for i, t in enumerate(TAGS)}
        windows: list[_Window] = []
        segments: list[Segment] = []
        pieces_of: dict[tuple[str, ...], list[list[int]]] = {}
        for i, instance in enumerate(instances):
            prefix = self._prefix(instance.instruction)
            budget = settings.max_length - len(prefix)
            if budget < 2:
                raise BionerError(f"model.max_length {settings.max_length} leaves no room after the instruction")
            if instance.words not in pieces_of:
                pieces_of[instance.words] = self._word_pieces(instance.words, report)
            pieces = [p[:budget] for p in pieces_of[instance.words]]
            report.warn(LONG_WORDS, sum(len(p) > budget for p in pieces_of[instance.words]))
            planned = plan_windows([len(p) for p in pieces], budget, min(settings.window_overlap, budget // 2))
            if len(planned) > 1:
                report.warn(WINDOWED)
            labels = [tag_id[t] for t in instance.tags] if instance.tags else [-100] * len(instance.words)
            for ws, we in planned:
                input_ids = list(prefix)
                word_index = []
                for piece in pieces[ws:we]:
                    word_index.append(len(input_ids))
                    input_ids.extend(piece)
                windows.append(_Window(i, (ws, we)))
                segments.append(Segment(input_ids, word_index, labels[ws:we]))
        return windows, segments

    def _prefix(self, text: str) -> list[int]:
        """BOS (when the tokenizer has one) and the instruction's sub-tokens."""
        if text not in self._prefixes:
            self._prefixes[text] = lora.prompt_ids(self.tokenizer, text)
        return self._prefixes[text]

    def _word_pieces(self, words: Sequence[str], report: Report) -> list[list[int]]:
        """Sub-tokens of each word, from one pass over the words joined by spaces (mapped back by offsets).

        Tokenizing the sentence as a whole gives the sub-tokens the decoder saw in
        pre-training; offsets, not re-joined strings, say which word each belongs to.
        """
        text, starts, ends = "", [], []
        for word in words:
            text += " "
            starts.append(len(text))
            text += word
            ends.append(len(text))
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        pieces: list[list[int]] = [[] for _ in words]
        for piece, (s, e) in zip(encoded["input_ids"], encoded["offset_mapping"], strict=True):
            last = max(s, e - 1)
            index = bisect_right(starts, last) - 1
            if index < 0 or last >= ends[index]:  # a lone space belongs to the word it precedes
                index += 1
            pieces[min(index, len(words) - 1)].append(piece)
        for piece in pieces:
            if not piece:
                piece.append(self.tokenizer.unk_token_id if self.tokenizer.unk_token_id is not None else 0)
                report.warn(NO_PIECES)
        return pieces


def _quantization(mode: str, device: torch.device, report: Report) -> Any:
    """A 4-bit bitsandbytes config for QLoRA on CUDA, or None (full-precision base)."""
    if mode == "none" or (mode == "auto" and device.type != "cuda"):
        return None
    if device.type != "cuda":
        raise BionerError("model.quantize = '4bit' needs a CUDA GPU")
    config = lora.nf4_config(required=mode == "4bit")
    if config is None:
        report.warn("4-bit QLoRA skipped: bitsandbytes is not installed (the base model is bf16)")
    return config
