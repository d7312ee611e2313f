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
import json
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import torch
from safetensors.torch import load_file, save_file

from bioner.errors import BionerError, Report
from bioner.knowledge.dense import dense_instances
from bioner.models.bidirectional import make_bidirectional
from bioner.models.decoding import viterbi_batch
from bioner.models.encoder import resolve_backbone
from bioner.models.gguf import GEMMA_270M, gemma_270m
from bioner.models.head import BackboneTagger
from bioner.models.instructions import TAGS, Instance, instances_for
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
    windowing_tokenizer,
)
from bioner.models.windows import Window, merge_windows, plan_windows
from bioner.training.config import Config, load_config
from bioner.training.device import resolve_device, use_bf16
from bioner.training.loop import TrainingTask, TrainResult
from bioner.training.loop import fit as fit_loop
from bioner.training.mixture import corpus_of, corpus_weights, group_by_corpus, weighted_sample
from bioner.types import Document, Entity
from bioner.views import decode

ADAPTER_DIR = "adapter"
HEAD_FILE = "head.safetensors"
TOKENIZER_DIR = "tokenizer"
TAGS_FILE = "tags.json"
UNSEEN = "documents of a corpus the model was not trained on (tagged with type-only instructions)"


def resolve_llm_backbone(name: str) -> str:
    """``gemma-3-270m`` is the packaged Gemma (converted on first use); anything else as for the encoder."""
    if name == GEMMA_270M:
        return str(gemma_270m())
    return resolve_backbone(name)


@dataclasses.dataclass(frozen=True)
class _Window:
    """Where one window of one instance sits: which instance, which words."""

    instance: int
    words: Window


class LLMTagger:
    """VANER-style instruction tagging with any Hugging Face decoder (Llama, Mistral, Qwen2, Gemma 3...)."""

    def __init__(self) -> None:
        self.config: Config | None = None
        self.tokenizer: Any = None
        self.module: BackboneTagger | None = None
        self.types: dict[str, list[str]] = {}
        """Entity types per training corpus (``""``: documents from files, with no corpus name)."""
        self._prefixes: dict[str, list[int]] = {}

    # -- building, saving, loading -------------------------------------------------------------

    def _base_model(self, config: Config, report: Report) -> tuple[Any, Any]:
        """Tokenizer and base decoder (``AutoModel``: no LM head), bidirectional unless configured causal."""
        from transformers import AutoModel, AutoTokenizer

        source = resolve_llm_backbone(config.model.backbone)
        device = resolve_device(config.train.device)
        options: dict[str, Any] = {"trust_remote_code": False, "attn_implementation": config.model.attention}
        quantization = _quantization(config.model.quantize, device, report)
        if quantization is not None:
            options.update(quantization_config=quantization, device_map={"": device.index or 0})
        else:
            options["dtype"] = torch.bfloat16 if use_bf16(config.train.precision, device) else torch.float32
        try:
            with quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
                base = AutoModel.from_pretrained(source, **options)
        except (OSError, ValueError) as err:
            raise BionerError(f"cannot load backbone {config.model.backbone!r}: {first_line(err)}") from None
        if quantization is not None:
            from peft import prepare_model_for_kbit_training

            base = prepare_model_for_kbit_training(base, use_gradient_checkpointing=False)  # type: ignore[no-untyped-call]
        if config.model.bidirectional:
            make_bidirectional(base)
        return tokenizer, base

    def _attach(self, config: Config, tokenizer: Any, base: Any, adapter: Path | None = None) -> None:
        """LoRA adapters (new, or the saved ones in ``adapter``) on ``base``, and a fresh head."""
        from peft import LoraConfig, PeftModel, get_peft_model

        backbone: Any
        if adapter is None:
            lora = LoraConfig(
                r=config.model.lora_r,
                lora_alpha=config.model.lora_alpha,
                lora_dropout=config.model.lora_dropout,
                target_modules="all-linear",
            )
            backbone = get_peft_model(base, lora)
        else:
            backbone = PeftModel.from_pretrained(base, adapter, is_trainable=False)
        self.tokenizer = windowing_tokenizer(tokenizer)
        self.module = BackboneTagger(backbone, int(base.config.hidden_size), len(TAGS), config.model.dropout)
        self._prefixes = {}
        self.config = config

    def save(self, directory: str | Path) -> Path:
        """Adapters, head, tokenizer, entity types and resolved config; not the base model."""
        from bioner.models import CONFIG_FILE

        config, module = self._ready()
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self._peft().save_pretrained(folder / ADAPTER_DIR)
        save_file({k: v.detach().cpu().contiguous() for k, v in module.head.state_dict().items()}, folder / HEAD_FILE)
        self.tokenizer.save_pretrained(folder / TOKENIZER_DIR)
        tags = {"tags": list(TAGS), "instruction": config.model.instruction, "types": self.types}
        (folder / TAGS_FILE).write_text(json.dumps(tags, indent=2) + "\n")
        config.save(folder / CONFIG_FILE)
        return folder

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """A saved tagger: its base model from ``model.backbone``, then its adapters and head."""
        from transformers import AutoTokenizer

        from bioner.models import CONFIG_FILE

        folder = Path(directory)
        for name in (CONFIG_FILE, TAGS_FILE, HEAD_FILE, ADAPTER_DIR, TOKENIZER_DIR):
            if not (folder / name).exists():
                raise BionerError(f"{folder}: not an llm-tagger model folder (missing {name})")
        config = load_config(folder / CONFIG_FILE)
        config.train.device = "auto"  # the machine that loads a model is seldom the one that trained it
        tagger = cls()
        _, base = tagger._base_model(config, Report())
        tokenizer = AutoTokenizer.from_pretrained(folder / TOKENIZER_DIR, local_files_only=True)
        tagger._attach(config, tokenizer, base, adapter=folder / ADAPTER_DIR)
        tagger.types = json.loads((folder / TAGS_FILE).read_text())["types"]
        tagger._load_head(folder)
        return tagger

    def _load_head(self, folder: Path) -> None:
        _, module = self._ready()
        module.head.load_state_dict(load_file(folder / HEAD_FILE))
        module.eval()

    def _load_best(self, folder: Path) -> None:
        """The adapters and head saved in ``folder`` put back into this tagger's model."""
        from peft import set_peft_model_state_dict

        adapters = load_file(folder / ADAPTER_DIR / "adapter_model.safetensors")
        set_peft_model_state_dict(self._peft(), adapters)
        self._load_head(folder)

    def _peft(self) -> Any:
        """The backbone: the base model wrapped with its LoRA adapters (a ``PeftModel``)."""
        _, module = self._ready()
        return module.backbone

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
        extra: Sequence[Instance] = (),
    ) -> TrainResult:
        """Train adapters and head on ``train`` (one corpus, or a mixture), stopping early on ``dev`` strict F1.

        ``extra`` instances (e.g. dense knowledge-base sentences) join the training
        instances; their ``group`` is weighted like a corpus of that name.
        """
        report = report if report is not None else Report()
        torch.manual_seed(config.train.seed)
        by_corpus = group_by_corpus(train, config.data.corpus)
        wanted = list(config.model.labels)
        self.types = {
            name: wanted or sorted({e.label for d in docs for e in d.entities}) for name, docs in by_corpus.items()
        }
        labels = sorted({label for types in self.types.values() for label in types})
        if not labels:
            raise BionerError("the training documents hold no entities: nothing to learn")
        config = dataclasses.replace(config, model=dataclasses.replace(config.model, labels=labels))
        tokenizer, base = self._base_model(config, report)
        self._attach(config, tokenizer, base)
        module = self.module
        assert module is not None
        instances: list[Instance] = []
        for name, docs in by_corpus.items():
            kept = [_only(d, self.types[name], report) for d in docs]
            instances.extend(
                instances_for(kept, name or None, self.types[name], config.model.instruction, report=report)
            )
        instances.extend(extra or dense_instances(train, labels, config.dbr, report=report))  # VANER's DBR
        weights = corpus_weights(config.data) if config.data.mixture else {}
        chosen = [instances[i] for i in weighted_sample([x.group for x in instances], weights, config.train.seed)]
        _, segments = self._featurize(chosen, report)
        dev_docs = list(dev)

        def evaluate() -> dict[str, float] | None:
            if not dev_docs:
                return None
            from bioner.evaluate import evaluate as score

            strict = score(dev_docs, self.predict(dev_docs), labels=labels).overall["strict"]
            return {"precision": strict.precision, "recall": strict.recall, "f1": strict.f1}

        pad = _pad_id(self.tokenizer)
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
        self._load_best(Path(output))
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
        """The documents with predicted entities of every type their corpus has (overlaps kept, with scores)."""
        config, _ = self._ready()
        documents = list(docs)
        counts = Report()
        groups: dict[tuple[str | None, tuple[str, ...]], list[int]] = {}
        everything = tuple(sorted({t for types in self.types.values() for t in types}))
        default = config.data.corpus or ""
        for i, doc in enumerate(documents):
            name = corpus_of(doc, default) or ""
            if config.model.instruction == "corpus" and name in self.types:
                key: tuple[str | None, tuple[str, ...]] = (name or None, tuple(self.types[name]))
            else:
                if config.model.instruction == "corpus":
                    counts.warn(UNSEEN)
                key = (None, everything)
            groups.setdefault(key, []).append(i)
        instances: list[Instance] = []
        for (named, types), members in groups.items():
            part = [documents[i] for i in members]
            for x in instances_for(part, named, types, "corpus" if named else "adapt", gold=False, report=counts):
                instances.append(dataclasses.replace(x, doc=members[x.doc]))
        windows, segments = self._featurize(instances, counts)
        scores = score_segments(
            self._ready()[1],
            segments,
            n_tags=len(TAGS),
            pad=_pad_id(self.tokenizer),
            batch_size=batch_size or config.train.eval_batch_size,
            device_name=config.train.device,
            precision=config.train.precision,
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

    def _featurize(self, instances: Sequence[Instance], report: Report) -> tuple[list[_Window], list[Segment]]:
        """Each instance cut into windows of whole words, each window behind the instance's instruction."""
        config, _ = self._ready()
        tag_id = {t: i for i, t in enumerate(TAGS)}
        windows: list[_Window] = []
        segments: list[Segment] = []
        pieces_of: dict[tuple[str, ...], list[list[int]]] = {}
        for i, instance in enumerate(instances):
            prefix = self._prefix(instance.instruction)
            budget = config.model.max_length - len(prefix)
            if budget < 2:
                raise BionerError(f"model.max_length {config.model.max_length} leaves no room after the instruction")
            if instance.words not in pieces_of:
                pieces_of[instance.words] = self._word_pieces(instance.words, report)
            pieces = [p[:budget] for p in pieces_of[instance.words]]
            report.warn(LONG_WORDS, sum(len(p) > budget for p in pieces_of[instance.words]))
            planned = plan_windows([len(p) for p in pieces], budget, min(config.model.window_overlap, budget // 2))
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
            bos = [self.tokenizer.bos_token_id] if self.tokenizer.bos_token_id is not None else []
            self._prefixes[text] = bos + list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
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


def _only(doc: Document, types: Sequence[str], report: Report) -> Document:
    kept = [e for e in doc.entities if e.label in types]
    report.lose("training entities with a label outside model.labels", len(doc.entities) - len(kept))
    return doc if len(kept) == len(doc.entities) else doc.with_entities(kept)


def _pad_id(tokenizer: Any) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


def _quantization(mode: str, device: torch.device, report: Report) -> Any:
    """A 4-bit bitsandbytes config for QLoRA on CUDA, or None (full-precision base)."""
    if mode == "none" or (mode == "auto" and device.type != "cuda"):
        return None
    if device.type != "cuda":
        raise BionerError("model.quantize = '4bit' needs a CUDA GPU")
    try:
        import bitsandbytes  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        if mode == "4bit":
            raise BionerError("model.quantize = '4bit' needs the package bitsandbytes (pip install it)") from None
        report.warn("4-bit QLoRA skipped: bitsandbytes is not installed (the base model is bf16)")
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(  # type: ignore[no-untyped-call]
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
