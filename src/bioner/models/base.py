"""What every backend is and what the training recipe hands it: protocols, settings, runtime, tasks.

Two protocols, after the design notes. A :class:`Predictor` tags documents, optionally with
labels given at prediction time (span and generative models take any; a tagger checks them
against its own), and is built by ``from_pretrained`` from a folder or a name. A
:class:`Trainable` predictor can also be trained and saved: the recipe
(:mod:`bioner.training.recipe`) prepares the data once for every backend (seed, corpus
grouping and labels, knowledge-injection samples, mixture sampling) and gives it to
``prepare``, which builds the model and answers with a :class:`TrainingTask` (examples,
batching, loss); the recipe runs the shared loop, scores dev, saves the best model and
calls ``restore`` to put it back. A backend thus only turns examples into batches and
batches into losses and predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

from bioner.errors import Report
from bioner.types import Document

if TYPE_CHECKING:
    import torch

    from bioner.knowledge.dense import DenseSample

CONFIG_FILE = "config.toml"
"""The resolved config inside every saved model folder: ``[model]`` holds the backend's settings."""
CARD_FILE = "README.md"
"""The model card of a saved model folder (the Hugging Face hub's format)."""


@dataclass
class BackendSettings:
    """The ``[model]`` table every backend's settings extend; ``backend`` is set when the class is registered."""

    backend: ClassVar[str] = ""
    labels: list[str] = field(default_factory=list)
    """Entity labels to tag; empty: every label seen in the training split."""

    def problems(self) -> list[str]:
        """Checks across keys (ranges, choices) that a type alone cannot express; one line each."""
        return []


@dataclass(frozen=True)
class Runtime:
    """Where and how a model runs, whatever machine trained it."""

    device: str = "auto"
    """``auto`` (CUDA when there is one), ``cpu``, ``cuda``, ``cuda:1``..."""
    precision: str = "auto"
    """``auto`` (bf16 on a GPU, fp32 on a CPU), ``bf16`` or ``fp32``; at prediction time also ``int8`` (CPU)."""
    batch_size: int = 64
    """Segments (windows, or instances) per forward pass at prediction time."""


@dataclass(frozen=True)
class TrainingData:
    """The training documents as the recipe prepared them, the same for every backend."""

    documents: list[Document]
    """Each with ``meta["corpus"]`` where it comes from a named corpus, its entities limited to its corpus's
    labels, in training order (a mixture is already sampled by its weights)."""
    labels_by_corpus: dict[str, list[str]]
    """The labels each corpus is trained on, sorted (``""``: documents from files, with no corpus name)."""
    dense: dict[str, list[DenseSample]] = field(default_factory=dict)
    """Knowledge-base sentences (VANER's DBR) per corpus; empty when knowledge injection is off."""
    seed: int = 13

    @property
    def labels(self) -> list[str]:
        """Every label the model learns, sorted."""
        return sorted({label for labels in self.labels_by_corpus.values() for label in labels})


@dataclass
class TrainingTask:
    """What a backend gives the training loop: a module, its examples and how to batch and score them."""

    module: torch.nn.Module
    examples: Sequence[Any]
    lengths: Sequence[int]
    """Input length of each example, for length-bucketed batches."""
    collate: Callable[[Sequence[Any]], dict[str, torch.Tensor]]
    loss: Callable[[dict[str, torch.Tensor]], torch.Tensor]
    backbone: str = "backbone."
    """Name prefix of the pretrained backbone's parameters in ``module``: its embeddings are its lowest layer
    for ``train.layer_decay``; what is neither a numbered layer nor the embeddings is the head
    (``train.head_learning_rate``)."""


@runtime_checkable
class Predictor(Protocol):
    """Tags documents; every backend is one."""

    settings: BackendSettings

    @property
    def labels(self) -> list[str]:
        """The labels tagged when none are given at prediction time."""
        ...

    def predict(
        self, docs: Iterable[Document], *, labels: Sequence[str] | None = None, report: Report | None = None
    ) -> list[Document]:
        """The documents with predicted entities (with scores) in place of their own."""
        ...

    @classmethod
    def from_pretrained(cls, name_or_folder: str | Path, *, runtime: Runtime | None = None) -> Self:
        """A ready model from a saved folder (or, where the backend can, a hub name)."""
        ...


@runtime_checkable
class Trainable(Predictor, Protocol):
    """A predictor the recipe can train and save."""

    provenance: dict[str, Any]
    """The other tables of the training config (``data``, ``train``, ...), saved beside the settings."""

    def prepare(self, data: TrainingData, report: Report) -> TrainingTask:
        """Build the model for ``data`` and say how to train it (the recipe runs the loop)."""
        ...

    def save(self, folder: str | Path) -> Path:
        """Everything ``from_pretrained`` needs, written into ``folder`` (weights as safetensors)."""
        ...

    def restore(self, folder: str | Path) -> None:
        """Put back the weights this model saved in ``folder`` (the best epoch, after training)."""
        ...


def saved_config(settings: BackendSettings, provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The ``config.toml`` of a saved model: the training tables, then ``[model]`` with only this backend's keys."""
    from bioner.settings import as_table

    model = {"backend": settings.backend, **as_table(settings)}
    tables = {name: model if name == "model" else dict(table) for name, table in provenance.items()}
    return tables if "model" in tables else {**tables, "model": model}
