"""What every word tagger shares between documents and its model: segments, batches, scores.

A segment is one window of one sentence as sub-token ids, with the position of each
word's first sub-token. The encoder and the llm-tagger build segments differently (the
llm-tagger puts an instruction in front) but batch, score and train them the same way,
so that code lives here once.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import torch

from bioner.backbones import DEFAULT_BACKBONE
from bioner.errors import BionerError, Report
from bioner.formats.common import open_write
from bioner.models.base import CONFIG_FILE, BackendSettings, TrainingTask, saved_config
from bioner.models.device import autocast, inference_bf16, resolve_device
from bioner.models.head import BLOCKED, Crf
from bioner.models.quantize import INT8, Calibration, check_int8_device, int8_model
from bioner.progress import progress_bar
from bioner.text import document_sentences
from bioner.types import Document, Span

WINDOWED = "sentences longer than the model window (tagged in overlapping windows)"
NO_PIECES = "words the tokenizer turns into nothing (given the unknown token)"
GAPS = "text outside the document's sentences (tagged as sentences of its own)"
LONG_WORDS = "words longer than the model window (only their first sub-tokens are read)"
QUEUED_BATCHES = 32
"""Batches a GPU runs ahead of the host before their scores are copied back (one wait per this many)."""


@dataclass
class WordTaggerSettings(BackendSettings):
    """What every word tagger (encoder, llm-tagger) sets: its backbone, its window, its head's dropout."""

    backbone: str = DEFAULT_BACKBONE
    """A local folder, a packaged model's name or a Hugging Face hub name (loaded with no remote code)."""
    max_length: int = 512
    """Window length in sub-tokens, special tokens (and an instruction) included; capped at the backbone's limit."""
    window_overlap: int = 128
    """Sub-tokens shared by consecutive windows of a sentence longer than one window."""
    dropout: float = 0.1
    """Dropout before the tagging head."""

    def problems(self) -> list[str]:
        problems = []
        if self.max_length < 8:
            problems.append(f"model.max_length must be at least 8, got {self.max_length}")
        if not 0 <= self.window_overlap <= self.max_length // 2:
            problems.append(f"model.window_overlap must be between 0 and max_length / 2, got {self.window_overlap}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"model.dropout must be in [0, 1), got {self.dropout}")
        return problems


@dataclass(frozen=True)
class Segment:
    """One window of one sentence, ready for the model."""

    input_ids: list[int]
    word_index: list[int]
    labels: list[int]
    tag_range: tuple[int, int] | None = None
    """The head outputs this segment is trained on (one corpus's tag set in a mixture); None: all."""
    word_end: list[int] = field(default_factory=list)
    """The position after each word's last sub-token (mean pooling needs it); empty: not needed."""


def collate(batch: Sequence[Segment], pad: int) -> dict[str, torch.Tensor]:
    """Pad a batch to its longest segment (dynamic padding); unused label slots are -100."""
    width = max(len(s.input_ids) for s in batch)
    words = max(len(s.word_index) for s in batch)
    input_ids = np.full((len(batch), width), pad, dtype=np.int64)
    attention = np.zeros((len(batch), width), dtype=np.int64)
    word_index = np.zeros((len(batch), words), dtype=np.int64)
    labels = np.full((len(batch), words), -100, dtype=np.int64)
    for row, segment in enumerate(batch):  # numpy rows, then one tensor each: no tensor per segment
        input_ids[row, : len(segment.input_ids)] = segment.input_ids
        attention[row, : len(segment.input_ids)] = 1
        word_index[row, : len(segment.word_index)] = segment.word_index
        labels[row, : len(segment.labels)] = segment.labels
    arrays = {"input_ids": input_ids, "attention_mask": attention, "word_index": word_index, "labels": labels}
    if any(s.word_end for s in batch):
        word_end = np.zeros((len(batch), words), dtype=np.int64)
        for row, segment in enumerate(batch):
            word_end[row, : len(segment.word_end)] = segment.word_end
        arrays["word_end"] = word_end
    collated = {name: torch.from_numpy(array) for name, array in arrays.items()}
    if any(s.tag_range is not None for s in batch):
        no_limit = (0, torch.iinfo(torch.long).max)
        collated["tag_range"] = torch.tensor([s.tag_range or no_limit for s in batch], dtype=torch.long)
    return collated


def word_ends(batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``word_end`` argument of a mean-pooling module, only when the batch has it (other modules take none)."""
    return {"word_end": batch["word_end"]} if "word_end" in batch else {}


def segment_loss(module: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy over the words of a collated batch (padding slots ignored).

    With a ``tag_range`` per segment, each segment's softmax runs over its own tag set only,
    which makes one linear layer over concatenated tag sets behave as one head per corpus.
    A module with a CRF (:class:`~bioner.models.head.Crf`) is trained on the CRF's likelihood instead.
    """
    logits = module(batch["input_ids"], batch["attention_mask"], batch["word_index"], **word_ends(batch)).float()
    crf: Crf | None = getattr(module, "crf", None)
    if "tag_range" in batch:
        outputs = torch.arange(logits.size(-1), device=logits.device)
        low, high = batch["tag_range"][:, :1], batch["tag_range"][:, 1:]
        outside = (outputs < low) | (outputs >= high)  # (batch, tags)
        logits = logits.masked_fill(outside.unsqueeze(1), BLOCKED if crf is not None else float("-inf"))
    if crf is not None:
        return crf.loss(logits, batch["labels"])
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)), batch["labels"].reshape(-1), ignore_index=-100
    )


class Tokens(Protocol):
    """A training example of sub-token ids (a :class:`Segment`, a generative prompt and answer)."""

    @property
    def input_ids(self) -> Sequence[int]: ...


E = TypeVar("E", bound=Tokens)


def training_task(
    module: torch.nn.Module,
    examples: Sequence[E],
    pad: int,
    collate: Callable[[Sequence[E], int], dict[str, torch.Tensor]],
    loss: Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor],
) -> TrainingTask:
    """Training on ``examples``: bucketed by length, batched by ``collate`` (padding ``pad``), scored by ``loss``."""
    return TrainingTask(
        module=module,
        examples=examples,
        lengths=[len(e.input_ids) for e in examples],
        collate=lambda batch: collate(batch, pad),
        loss=lambda batch: loss(module, batch),
    )


_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def collector_paused(predict: Callable[_Params, _Result]) -> Callable[_Params, _Result]:
    """Run ``predict`` with Python's cyclic garbage collector paused, and restore it after.

    Turning documents into segments allocates hundreds of thousands of small lists; with a model
    loaded, each full collection they trigger walks every live object (modules, tensors, the
    caller's documents), which was 60 % of featurization time on NCBI-disease's test split. Any
    cyclic garbage the call leaves is collected by the first collection after it returns.
    """

    @functools.wraps(predict)
    def paused(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return predict(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


def score_segments(
    module: torch.nn.Module,
    segments: Sequence[Segment],
    *,
    n_tags: int,
    pad: int,
    batch_size: int,
    device_name: str,
    precision: str,
    calibration: Calibration | None = None,
    progress: bool = False,
) -> list[npt.NDArray[np.float32]]:
    """Per-word tag log-probabilities of every segment.

    Segments are sorted by length and batched with dynamic padding (length bucketing), run
    under ``torch.inference_mode`` and, where :func:`inference_bf16` says so, in bf16 (or, with
    ``precision="int8"``, through the smoothed int8 copy of :func:`bioner.models.quantize.int8_model`,
    made with ``calibration``). On a GPU the host does not wait for each batch: it queues up to
    ``QUEUED_BATCHES`` of them (pinned memory, asynchronous copies) before copying their scores back.
    """
    device = resolve_device(device_name)
    if precision == INT8:  # per-channel int8 linear layers (bioner.models.quantize), a copy kept beside the model
        check_int8_device(device)
        module = int8_model(module, calibration)
    bf16 = precision != INT8 and inference_bf16(precision, device)
    module.to(device)
    was_training = module.training
    module.eval()
    order = sorted(range(len(segments)), key=lambda i: len(segments[i].input_ids))
    out: list[npt.NDArray[np.float32]] = [np.zeros((0, n_tags), dtype=np.float32)] * len(segments)
    pending: list[tuple[list[int], torch.Tensor]] = []

    def collect() -> None:  # on a GPU, the one wait for the batches queued so far
        for chosen, log_probs in pending:
            rows = log_probs.cpu().numpy()
            for row, i in enumerate(chosen):
                out[i] = rows[row, : len(segments[i].word_index)]
        pending.clear()

    bar = progress_bar(unit="window", enabled=progress)
    with bar, torch.inference_mode():
        task = bar.add_task("predict", total=len(segments), info="")
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            collated = collate([segments[i] for i in chosen], pad)
            if device.type == "cuda":
                collated = {k: v.pin_memory() for k, v in collated.items()}
            batch = {k: v.to(device, non_blocking=True) for k, v in collated.items()}
            with autocast(device, bf16):
                logits = module(batch["input_ids"], batch["attention_mask"], batch["word_index"], **word_ends(batch))
            pending.append((chosen, torch.log_softmax(logits.float(), dim=-1)))
            if device.type != "cuda" or len(pending) >= QUEUED_BATCHES:
                collect()  # a CPU gains nothing from waiting; a GPU keeps a bounded queue
            bar.update(task, advance=len(chosen))
        collect()
    module.train(was_training)
    return out


def sentence_regions(doc: Document, report: Report) -> list[Span]:
    """The document's sentences, plus any visible text they leave out (so that every word is tagged)."""
    spans = document_sentences(doc)
    regions: list[Span] = []
    previous = 0
    for start, end in [*spans, (len(doc.text), len(doc.text))]:
        gap = doc.text[previous:start]
        if gap.strip():
            first = previous + len(gap) - len(gap.lstrip())
            regions.append((first, previous + len(gap.rstrip())))
            report.warn(GAPS)
        if start < end:
            regions.append((start, end))
        previous = max(previous, end)
    return regions


@contextmanager
def quiet_loading() -> Iterator[None]:
    """No transformers progress bars while loading: bioner prints its own progress."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


def windowing_tokenizer(tokenizer: Any) -> Any:
    """``tokenizer`` without its "longer than the maximum sequence length" warning.

    bioner tokenizes whole sentences and cuts them into windows itself, reporting how many
    it cut (``WINDOWED``); transformers' warning that such input "will result in indexing
    errors" would be false and alarming. transformers gives that warning once per tokenizer
    and records it in ``deprecation_warnings``, so marking it given silences only it.
    """
    tokenizer.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
    return tokenizer


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, for one-line errors."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@contextmanager
def reading_weights(path: str | Path, what: str = "weights") -> Iterator[None]:
    """A truncated or garbage safetensors file, or one with other tensors or shapes, as one line naming it."""
    from safetensors import SafetensorError

    try:
        yield
    except (OSError, RuntimeError, ValueError, SafetensorError) as err:
        raise BionerError(f"{path}: not this model's {what}: {first_line(err)}") from None


def pad_id(tokenizer: Any) -> int:
    """The padding id: the tokenizer's pad token, else its end-of-sequence token (decoders), else 0."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


def check_labels(labels: Sequence[str] | None, known: Sequence[str], backend: str) -> set[str] | None:
    """The labels asked for at prediction time, all of which a tagger must know; None: all of its own."""
    if labels is None:
        return None
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise BionerError(
            f"labels: the {backend} model tags only {', '.join(known)}; it cannot tag {', '.join(unknown)} "
            "(a span or generative model takes new labels)"
        )
    return set(labels)


def require_files(folder: Path, names: Sequence[str], kind: str) -> None:
    """A model folder holds ``names``, or a one-line error: ``FOLDER: not {kind} model folder (missing NAME)``."""
    for name in names:
        if not (folder / name).exists():
            raise BionerError(f"{folder}: not {kind} model folder (missing {name})")


def read_json(path: Path, required: Sequence[str]) -> dict[str, Any]:
    """A JSON object file of a model folder with its ``required`` keys; anything else is a one-line error."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BionerError(f"{path}: not readable JSON: {first_line(err)}") from None
    if not isinstance(value, dict) or any(key not in value for key in required):
        raise BionerError(f"{path}: expected a JSON object with {', '.join(required)}")
    return value


def save_model_files(
    folder: Path, settings: BackendSettings, provenance: Mapping[str, Any], files: Mapping[str, Any]
) -> Path:
    """The JSON ``files`` and ``config.toml`` (the backend's settings, the training tables) of a model folder."""
    import tomli_w

    for name, content in files.items():
        with open_write(folder / name) as out:
            out.write(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    with open_write(folder / CONFIG_FILE) as out:
        out.write(tomli_w.dumps(saved_config(settings, provenance)))
    return folder
