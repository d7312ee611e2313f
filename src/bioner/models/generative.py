"""The ``generative`` backend: a decoder LLM fine-tuned to answer one BIO tag per word (the LLMs-vs-encoders method).

The prompt follows the paper's Figure 1: an instruction, the label list and the sentence's
words; the answer is one tag per word. Training is supervised fine-tuning of LoRA adapters
(peft; 4-bit QLoRA on CUDA) with the loss on the answer tokens only, run by the shared recipe.

Prediction is greedy generation (transformers' ``generate``: KV cache, left-padded batches).
With ``model.constrained`` (the default) a :class:`TagAutomaton` per sentence allows at each
step only the tokens that continue a tag valid after the previous tag (the scheme's rules
from :mod:`bioner.schemes`) and stops after exactly one tag per word, so every answer aligns
to the words. Unconstrained answers are parsed and every invalid or misaligned one is
counted in the report (``INVALID_TAGS``, ``MISALIGNED``), which measures how often a model
needs the constraints. Tags are plain text (several sub-tokens each) or, with
``model.tag_tokens = "special"``, one added token each (the paper's suggested fix), whose
embeddings are trained (peft trainable tokens) and saved with the adapters.

A saved model is a folder with ``adapter/`` (peft, safetensors), ``tokenizer/``, ``tags.json``
and ``config.toml``; the base model is loaded again from ``model.backbone``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Self

import torch

from bioner.backbones import DEFAULT_DECODER
from bioner.errors import BionerError, Report
from bioner.extras import need
from bioner.models import lora
from bioner.models.base import BackendSettings, Runtime, TrainingData, TrainingTask
from bioner.models.registry import register, saved_runtime, saved_settings
from bioner.models.segments import (
    pad_id,
    read_json,
    require_files,
    save_model_files,
    sentence_regions,
    training_task,
)
from bioner.progress import progress_bar
from bioner.schemes import OUTSIDE, Scheme, scheme_of
from bioner.settings import choice_problems
from bioner.types import Document, Entity, Span
from bioner.views import convert_tags, decode, encode, split_tag

TOKENIZER_DIR = "tokenizer"
TAGS_FILE = "tags.json"
QUANTIZE = ("none", "4bit")
TAG_TOKENS = ("text", "special")
SPLIT = "sentences longer than model.max_words words (tagged in consecutive parts)"
INVALID_TAGS = "answers with an unknown tag or an invalid tag transition (unconstrained decoding)"
MISALIGNED = "answers with a tag count other than the word count (unconstrained decoding; padded or cut with O)"
ANSWERS = "answers generated"


@dataclasses.dataclass
class GenerativeSettings(BackendSettings):
    """``[model]`` of the ``generative`` backend."""

    backbone: str = DEFAULT_DECODER
    """A decoder with an LM head: a packaged model's name, a local folder or a hub name (no remote code)."""
    scheme: str = "IOB2"
    """The tag scheme of the answers, ``IOB2`` or ``IOBES``."""
    tag_tokens: str = "text"
    """``text`` (tags as plain words, several sub-tokens each) or ``special`` (one added token per tag)."""
    constrained: bool = True
    """Allow only valid tag sequences with one tag per word; false decodes freely and counts bad answers."""
    max_words: int = 64
    """Words per prompt; a longer sentence is tagged in consecutive parts (counted in the report)."""
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    quantize: str = "none"
    """``none`` or ``4bit`` (QLoRA: the frozen base in 4 bits, bitsandbytes, CUDA only)."""
    attention: str = "sdpa"
    """The attention implementation, ``sdpa`` or ``eager``."""

    def problems(self) -> list[str]:
        choices = {
            "scheme": ("IOB2", "IOBES"),
            "tag_tokens": TAG_TOKENS,
            "quantize": QUANTIZE,
            "attention": ("sdpa", "eager"),
        }
        problems = choice_problems(self, "model", choices)
        if self.max_words < 1:
            problems.append(f"model.max_words must be at least 1, got {self.max_words}")
        return problems + lora.settings_problems(self)


def prompt(words: Sequence[str], labels: Sequence[str], scheme: str = "IOB2") -> str:
    """The paper's Figure 1 prompt: instruction, label list, the sentence's words; the answer follows it."""
    tags = ", ".join(scheme_of(scheme).tag_list(labels))
    return f"### Instruction: one {scheme} tag per word.\n### Tags: {tags}\n### Words: {' '.join(words)}\n### Answer:"


def special_token(tag: str) -> str:
    """The added token of ``tag`` when tags are special tokens."""
    return f"<{tag}>"


@dataclasses.dataclass(frozen=True)
class TagCodes:
    """The tags of a label set and the token ids that spell each one in the answer."""

    tags: tuple[str, ...]
    codes: tuple[tuple[int, ...], ...]
    eos: int
    scheme: Scheme

    @classmethod
    def build(cls, tokenizer: Any, labels: Sequence[str], scheme: str, special: bool) -> TagCodes:
        """Each tag spelt as the tokenizer spells ``" " + tag`` (text) or as its one added token (special)."""
        rules = scheme_of(scheme)
        tags = tuple(rules.tag_list(labels))
        codes: list[tuple[int, ...]] = []
        for tag in tags:
            if special:
                ids = tokenizer.convert_tokens_to_ids([special_token(tag)])
                if ids[0] is None or ids[0] == tokenizer.unk_token_id:
                    raise BionerError(f"labels: {tag} has no special token in this model (trained labels only)")
            else:
                ids = tokenizer(" " + tag, add_special_tokens=False)["input_ids"]
            codes.append(tuple(int(i) for i in ids))
        if len(set(codes)) != len(codes):
            raise BionerError("labels: two tags are spelt with the same tokens; rename a label")
        eos = tokenizer.eos_token_id
        if eos is None:
            raise BionerError("the backbone's tokenizer has no end-of-sequence token")
        return cls(tags, tuple(codes), int(eos), rules)

    def answer(self, tags: Sequence[str]) -> list[int]:
        """The token ids of an answer: each tag's tokens, then end of sequence."""
        index = {t: i for i, t in enumerate(self.tags)}
        return [token for tag in tags for token in self.codes[index[tag]]] + [self.eos]

    def allowed_after(self, previous: str | None, remaining: int) -> list[int]:
        """Indices of the tags that may follow ``previous`` (None: the first word) with ``remaining`` words after."""
        rules = self.scheme
        out = []
        last_prefix, last_label = split_tag(previous) if previous is not None else (OUTSIDE, "")
        for i, tag in enumerate(self.tags):
            prefix, label = split_tag(tag)
            if previous is None:
                valid = rules.starts(prefix)
            else:
                valid = rules.follows(last_prefix, prefix, label == last_label)
            if valid and (remaining > 0 or rules.ends(prefix)):
                out.append(i)
        return out


class TagAutomaton:
    """The answer of one sentence as a state machine over token ids: only valid tag sequences, one tag per word.

    ``allowed()`` lists the tokens that may come next; ``advance(token)`` consumes one of them.
    A tag whose tokens are a prefix of another tag's completes when the next token does not
    continue it. After the last word only end of sequence is allowed, so the answer has exactly
    ``words`` tags whatever the model's scores.
    """

    def __init__(self, codes: TagCodes, words: int) -> None:
        self.codes = codes
        self.words = words
        self.tags: list[str] = []
        self.consumed: list[int] = []
        """Tokens fed so far (generation hands over the whole sequence at each step)."""
        self.path: tuple[int, ...] = ()
        self.candidates = codes.allowed_after(None, words - 1) if words else []
        self.done = words == 0

    def _continuations(self) -> set[int]:
        n = len(self.path)
        return {
            self.codes.codes[i][n]
            for i in self.candidates
            if len(self.codes.codes[i]) > n and self.codes.codes[i][:n] == self.path
        }

    def _complete(self) -> int | None:
        """The candidate tag the current path spells in full, if any."""
        return next((i for i in self.candidates if self.codes.codes[i] == self.path), None)

    def _close(self, tag: int) -> None:
        self.tags.append(self.codes.tags[tag])
        self.path = ()
        remaining = self.words - len(self.tags)
        self.done = remaining == 0
        self.candidates = [] if self.done else self.codes.allowed_after(self.tags[-1], remaining - 1)

    def _next_start(self, tag: int) -> set[int]:
        """First tokens of the tags that may follow ``tag`` (or end of sequence after the last word)."""
        remaining = self.words - len(self.tags) - 1
        if remaining == 0:
            return {self.codes.eos}
        return {self.codes.codes[i][0] for i in self.codes.allowed_after(self.codes.tags[tag], remaining - 1)}

    def allowed(self) -> list[int]:
        if self.done:
            return [self.codes.eos]
        tokens = self._continuations()
        complete = self._complete()
        if complete is not None:
            tokens |= self._next_start(complete)
        return sorted(tokens)

    def advance(self, token: int) -> None:
        if self.done:
            return
        if token in self._continuations():
            self.path = (*self.path, token)
            complete = self._complete()
            if complete is not None and not self._continuations():
                self._close(complete)
            return
        complete = self._complete()
        if complete is None:
            raise ValueError(f"token {token} is not allowed here")
        self._close(complete)
        if not self.done:
            self.advance(token)


def parse_answer(text: str, codes: TagCodes, words: int, special: bool) -> tuple[list[str], bool, bool]:
    """Tags read from a free answer, padded or cut to ``words`` with O; and whether it was invalid, misaligned.

    An unknown tag becomes O; an invalid transition is kept (the decoder reads it as a start).
    """
    if special:
        text = text.replace("><", "> <")
    tokens = text.split()
    if special:
        tokens = [t[1:-1] if t.startswith("<") and t.endswith(">") else t for t in tokens]
    known = set(codes.tags)
    invalid = any(t not in known for t in tokens)
    tags = [t if t in known else OUTSIDE for t in tokens]
    misaligned = len(tags) != words
    tags = (tags + [OUTSIDE] * words)[:words]
    rules = codes.scheme
    previous: tuple[str, str] | None = None
    for tag in tags:
        prefix, label = split_tag(tag)
        ok = rules.starts(prefix) if previous is None else rules.follows(previous[0], prefix, label == previous[1])
        invalid |= not ok
        previous = (prefix, label)
    if previous is not None and not rules.ends(previous[0]):
        invalid = True
    return tags, invalid, misaligned


@dataclasses.dataclass(frozen=True)
class Part:
    """At most ``max_words`` words of one sentence: what is prompted and where its words are."""

    doc: int
    words: tuple[str, ...]
    spans: tuple[Span, ...]
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Example:
    """One training example: prompt and answer ids, the loss on the answer only."""

    input_ids: list[int]
    labels: list[int]


def collate_examples(batch: Sequence[Example], pad: int) -> dict[str, torch.Tensor]:
    """Left-padded ids (answers end every row), attention mask, positions, and labels (-100 off the answer).

    Left padding puts every answer in the last columns, so the loss needs the LM head (a
    262k-row matrix for Gemma) only there (:func:`answer_loss`), not on the prompt.
    """
    width = max(len(e.input_ids) for e in batch)
    input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, example in enumerate(batch):
        n = len(example.input_ids)
        input_ids[row, width - n :] = torch.tensor(example.input_ids)
        attention[row, width - n :] = 1
        labels[row, width - n :] = torch.tensor(example.labels)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)  # as generate numbers left-padded rows
    return {"input_ids": input_ids, "attention_mask": attention, "position_ids": positions, "labels": labels}


def answer_loss(module: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Next-token cross-entropy on the answer tokens, the LM head run only on the last columns that hold them."""
    labels = batch["labels"]
    answered = (labels != -100).any(dim=0).nonzero()
    keep = int(labels.shape[1] - answered[0, 0]) + 1 if len(answered) else 2
    keep = min(keep, labels.shape[1])
    output = module(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        logits_to_keep=keep,
    )
    logits = output.logits[:, :-1].float()  # position t predicts token t + 1
    targets = labels[:, labels.shape[1] - keep + 1 :]
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100
    )


@dataclasses.dataclass
class DecodeStats:
    """What prediction measured: answers, generated tokens (decode steps), bad free answers."""

    answers: int = 0
    steps: int = 0
    invalid: int = 0
    misaligned: int = 0


@register("generative", GenerativeSettings)
class GenerativeTagger:
    """BIO generation with any Hugging Face decoder (Gemma 3, Llama, Mistral, Qwen2...), LoRA fine-tuned."""

    def __init__(self, settings: GenerativeSettings | None = None, runtime: Runtime | None = None) -> None:
        self.settings = settings or GenerativeSettings()
        self.runtime = runtime or Runtime()
        self.provenance: dict[str, Any] = {}
        self.tokenizer: Any = None
        self.module: Any = None
        self.stats = DecodeStats()
        """Totals of the last :meth:`predict` call (the benchmark reads decode steps from it)."""

    @property
    def labels(self) -> list[str]:
        return list(self.settings.labels)

    # -- building, saving, loading -------------------------------------------------------------

    def build(self, tokenizer_source: str | Path | None, adapter: Path | None) -> None:
        """Tokenizer (with tag tokens when special), causal LM, resized embeddings, LoRA adapters."""
        from transformers import AutoModelForCausalLM

        settings = self.settings
        quantize = partial(quantization_config, settings.quantize)
        tokenizer, base, quantized = lora.load_decoder(
            AutoModelForCausalLM, settings, self.runtime, quantize, tokenizer_source
        )
        peft = need("peft", "llm", "the generative backend")
        new_ids: list[int] = []
        if settings.tag_tokens == "special":
            wanted = [special_token(t) for t in scheme_of(settings.scheme).tag_list(settings.labels)]
            tokenizer.add_tokens(wanted, special_tokens=True)
            new_ids = [int(tokenizer.convert_tokens_to_ids(token)) for token in wanted]
            rows = int(base.get_input_embeddings().num_embeddings)
            if len(tokenizer) > rows:
                base.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        if quantized:
            base = peft.prepare_model_for_kbit_training(base, use_gradient_checkpointing=False)
        options = {"task_type": "CAUSAL_LM", "trainable_token_indices": new_ids or None}
        self.module = lora.with_adapters(peft, base, settings, adapter, **options)
        if adapter is not None:
            self.module.eval()
        self.tokenizer = tokenizer

    def save(self, folder: str | Path) -> Path:
        """Adapters (with the tag-token embeddings when special), tokenizer, labels and config; not the base."""
        module = self._ready()
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        lora.save_adapters(module, target, save_embedding_layers=False)  # the tag tokens are in the adapters
        self.tokenizer.save_pretrained(target / TOKENIZER_DIR)
        tags = {"labels": self.labels, "scheme": self.settings.scheme, "tag_tokens": self.settings.tag_tokens}
        return save_model_files(target, self.settings, self.provenance, {TAGS_FILE: tags})

    @classmethod
    def from_pretrained(cls, name_or_folder: str | Path, *, runtime: Runtime | None = None) -> Self:
        """A saved model: its base from ``model.backbone``, then its tokenizer and adapters."""
        folder = Path(name_or_folder)
        require_files(folder, (TAGS_FILE, lora.ADAPTER_DIR, TOKENIZER_DIR), "a generative")
        _, settings, tables = saved_settings(folder)
        assert isinstance(settings, GenerativeSettings)
        labels = read_json(folder / TAGS_FILE, ("labels",))["labels"]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise BionerError(f"{folder / TAGS_FILE}: 'labels' must be a list of strings")
        model = cls(dataclasses.replace(settings, labels=labels), runtime or saved_runtime(tables))
        model.provenance = tables
        model.build(folder / TOKENIZER_DIR, folder / lora.ADAPTER_DIR)
        return model

    def restore(self, folder: str | Path) -> None:
        """The adapters saved in ``folder`` put back into this model."""
        lora.restore_adapters(need("peft", "llm", "the generative backend"), self._ready(), folder)
        self._ready().eval()

    def _ready(self) -> Any:
        if self.module is None:
            raise BionerError("the generative model has no weights yet: train it or load one")
        return self.module

    # -- training ------------------------------------------------------------------------------

    def prepare(self, data: TrainingData, report: Report) -> TrainingTask:
        """LoRA adapters for ``data``'s labels, and one prompt-and-answer example per sentence part."""
        labels = list(self.settings.labels) or data.labels
        self.settings = dataclasses.replace(self.settings, labels=labels)
        self.build(None, None)
        module = self._ready()
        codes = self._codes(labels)
        examples = []
        for part in self.parts(data.documents, report, gold=True):
            ids = self._prompt_ids(part.words, labels)
            answer = codes.answer(part.tags)
            examples.append(Example(ids + answer, [-100] * len(ids) + answer))
        return training_task(module, examples, pad_id(self.tokenizer), collate_examples, answer_loss)

    def parts(self, docs: Sequence[Document], report: Report, *, gold: bool) -> list[Part]:
        """Every sentence of ``docs`` as parts of at most ``max_words`` words (tagged in the scheme with ``gold``)."""
        scheme = self.settings.scheme
        size = self.settings.max_words
        parts = []
        for d, doc in enumerate(docs):
            source = doc if gold else doc.with_entities([])
            keep = set(self.settings.labels)
            source = source.with_entities([e for e in source.entities if e.label in keep])
            for region in sentence_regions(doc, report):
                view = encode(source, scheme, region, report=report)
                if len(view.tokens) > size:
                    report.warn(SPLIT)
                for start in range(0, len(view.tokens), size):
                    spans = view.tokens[start : start + size]
                    tags = convert_tags(list(view.tags[start : start + size]), scheme) if gold else []
                    words = tuple(doc.text[s:e] for s, e in spans)
                    parts.append(Part(d, words, tuple(spans), tuple(tags)))
        return parts

    def _codes(self, labels: Sequence[str]) -> TagCodes:
        return TagCodes.build(self.tokenizer, labels, self.settings.scheme, self.settings.tag_tokens == "special")

    def _prompt_ids(self, words: Sequence[str], labels: Sequence[str]) -> list[int]:
        return lora.prompt_ids(self.tokenizer, prompt(words, labels, self.settings.scheme))

    # -- prediction ----------------------------------------------------------------------------

    def predict(
        self,
        docs: Iterable[Document],
        *,
        labels: Sequence[str] | None = None,
        report: Report | None = None,
        progress: bool = False,
    ) -> list[Document]:
        """The documents with the entities of the generated tags (one tag per word, constrained by default).

        ``labels`` asks for other labels than the trained ones (text tags only: special tags
        exist only for trained labels).
        """
        module = self._ready()
        documents = list(docs)
        asked = list(labels) if labels is not None else self.labels
        counts = Report()
        codes = self._codes(asked)
        parts = self.parts(documents, counts, gold=False)
        device = next(module.parameters()).device
        order = sorted(range(len(parts)), key=lambda i: len(parts[i].words))
        answers: list[list[str]] = [[] for _ in parts]
        stats = DecodeStats()
        was_training = module.training
        module.eval()
        bar = progress_bar(unit="sentence", enabled=progress)
        with bar, torch.inference_mode():
            task = bar.add_task("generate", total=len(parts), info="")
            for start in range(0, len(order), self.runtime.batch_size):
                chosen = order[start : start + self.runtime.batch_size]
                generated = self._generate([parts[i] for i in chosen], asked, codes, device, stats)
                for i, tags in zip(chosen, generated, strict=True):
                    answers[i] = tags
                bar.update(task, advance=len(chosen))
        module.train(was_training)
        found: list[list[Entity]] = [[] for _ in documents]
        for part, tags in zip(parts, answers, strict=True):
            found[part.doc].extend(decode(part.spans, tags, documents[part.doc].text, self.settings.scheme))
        counts.warn(ANSWERS, stats.answers)
        counts.warn(INVALID_TAGS, stats.invalid)
        counts.warn(MISALIGNED, stats.misaligned)
        self.stats = stats
        if report is not None:
            report.merge(counts)
        return [doc.with_entities(entities) for doc, entities in zip(documents, found, strict=True)]

    def _generate(
        self, batch: Sequence[Part], labels: Sequence[str], codes: TagCodes, device: torch.device, stats: DecodeStats
    ) -> list[list[str]]:
        """Greedy answers of a left-padded batch (KV cache), constrained or parsed; tags per part."""
        prompts = [self._prompt_ids(p.words, labels) for p in batch]
        width = max(len(p) for p in prompts)
        pad = pad_id(self.tokenizer)
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids) :] = torch.tensor(ids)
            attention[row, width - len(ids) :] = 1
        longest_tag = max(len(c) for c in codes.codes)
        automata = [TagAutomaton(codes, len(p.words)) for p in batch]
        options: dict[str, Any] = {
            "do_sample": False,
            "use_cache": True,
            "max_new_tokens": max(len(p.words) for p in batch) * longest_tag + 1,
            "eos_token_id": codes.eos,
            "pad_token_id": pad,
        }
        if self.settings.constrained:

            def allowed(row: int, ids: torch.Tensor) -> list[int]:
                automaton = automata[row]
                for token in ids[width + len(automaton.consumed) :].tolist():
                    automaton.consumed.append(token)
                    automaton.advance(token)
                return automaton.allowed()

            options["prefix_allowed_tokens_fn"] = allowed
        output = self._ready().generate(input_ids=input_ids.to(device), attention_mask=attention.to(device), **options)
        out: list[list[str]] = []
        for row, part in enumerate(batch):
            generated = output[row, width:].tolist()
            if codes.eos in generated:
                generated = generated[: generated.index(codes.eos) + 1]
            stats.answers += 1
            stats.steps += len(generated)
            if self.settings.constrained:
                automaton = automata[row]
                for token in generated[len(automaton.consumed) :]:
                    automaton.advance(token)
                out.append(list(automaton.tags))
                continue
            text = self.tokenizer.decode([t for t in generated if t != codes.eos], skip_special_tokens=False)
            tags, invalid, misaligned = parse_answer(
                text, codes, len(part.words), self.settings.tag_tokens == "special"
            )
            stats.invalid += invalid
            stats.misaligned += misaligned
            out.append(tags)
        return out


def quantization_config(mode: str, device: torch.device) -> Any:
    """A 4-bit bitsandbytes config for QLoRA on CUDA, or None; 4-bit anywhere else is a one-line error."""
    if mode == "none":
        return None
    if device.type != "cuda":
        raise BionerError(f"model.quantize = '4bit' needs a CUDA GPU (this run is on {device.type})")
    return lora.nf4_config(required=True)
