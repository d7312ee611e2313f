"""Tagging backends, chosen by name in a config and sharing one small protocol.

A backend is a class with ``fit(train, dev, config, output)``, ``predict(docs)``,
``save(dir)`` and ``load(dir)``. Backends are registered here by name and imported
only when used, so listing them (or reading a saved model's config) needs no torch.
A saved model folder holds ``config.toml`` with ``model.backend``, so loading
finds its backend without being told.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

from bioner.errors import BionerError, Report
from bioner.types import Document

if TYPE_CHECKING:
    from bioner.timing import Timing
    from bioner.training.config import Config
    from bioner.training.loop import TrainResult

BACKENDS: dict[str, str] = {
    "encoder": "bioner.models.encoder:EncoderTagger",
    "llm-tagger": "bioner.models.llm_tagger:LLMTagger",
}
"""Backend name -> ``module:class``."""

CONFIG_FILE = "config.toml"
"""The resolved training config inside every saved model folder."""


class Tagger(Protocol):
    """What every backend offers; a fresh instance is built by ``fit`` or ``load``."""

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
    ) -> TrainResult: ...

    def predict(
        self, docs: Iterable[Document], *, report: Report | None = None, progress: bool = False
    ) -> list[Document]: ...

    def save(self, directory: str | Path) -> Path: ...

    @classmethod
    def load(cls, directory: str | Path) -> Self: ...


def backend_class(name: str) -> type[Tagger]:
    """The class registered under ``name``; an unknown name is a one-line error."""
    if name not in BACKENDS:
        raise BionerError(f"unknown backend {name!r}; known backends: {', '.join(sorted(BACKENDS))}")
    module_name, _, class_name = BACKENDS[name].partition(":")
    cls: type[Tagger] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_tagger(name: str) -> Tagger:
    """An untrained tagger of backend ``name``; ``fit`` builds its model from the config."""
    return backend_class(name)()


def load_tagger(directory: str | Path) -> Tagger:
    """A trained tagger from its folder, whatever its backend."""
    from bioner.training.config import load_config

    folder = Path(directory)
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise BionerError(f"{folder}: not a bioner model folder (no {CONFIG_FILE})")
    config = load_config(config_path)
    return backend_class(config.model.backend).load(folder)


def predict_timed(
    tagger: Tagger,
    docs: Sequence[Document],
    *,
    chunk: int = 16,
    report: Report | None = None,
    progress: bool = False,
) -> tuple[list[Document], Timing]:
    """Predictions for ``docs`` with their timing, predicting ``chunk`` documents at a time.

    A batched model has no per-document cost to read off, so each chunk's time is
    shared evenly by its documents (see :class:`bioner.timing.LatencyRecorder`). Chunks
    of 16 documents still fill the model's batches (a document holds many sentences)
    while their spread gives the latency percentiles some meaning.
    """
    from bioner.timing import LatencyRecorder
    from bioner.training.progress import progress_bar

    recorder = LatencyRecorder()
    predicted: list[Document] = []
    bar = progress_bar(unit="doc", enabled=progress)
    with bar:
        task = bar.add_task("predict", total=len(docs), info="")
        for start in range(0, len(docs), chunk):
            part = docs[start : start + chunk]
            with recorder.measure(part):
                predicted.extend(tagger.predict(part, report=report))
            bar.update(task, advance=len(part))
    return predicted, recorder.timing()
