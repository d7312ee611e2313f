"""Backends by name: a module registers its class and settings; configs and folders find them.

A backend is one module with one settings class. Its module registers it with the
:func:`register` decorator; the name ``llm-tagger`` is looked for in
``bioner.models.llm_tagger``, and a plug-in package can add backends through the entry point
group ``bioner.backends`` (``name = "package.module"``), so adding a backend edits no shared
code. A saved model folder's ``config.toml`` names its backend, so loading needs no hint.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import pkgutil
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bioner.errors import BionerError, Report
from bioner.models.base import CONFIG_FILE, BackendSettings, Predictor, Runtime
from bioner.settings import fill
from bioner.types import Document

ENTRY_POINTS = "bioner.backends"
DEFAULT_BACKEND = "encoder"


@dataclass(frozen=True)
class Backend:
    """A registered model family: its name, its class and its ``[model]`` settings."""

    name: str
    cls: type[Predictor]
    settings: type[BackendSettings]
    legacy_keys: frozenset[str] = frozenset()
    """``[model]`` keys that model folders saved before per-backend settings hold and this backend ignores."""


_REGISTRY: dict[str, Backend] = {}
T = TypeVar("T")


def register(
    name: str, settings: type[BackendSettings], *, legacy_keys: Sequence[str] = ()
) -> Callable[[type[T]], type[T]]:
    """Class decorator: ``@register("span", SpanSettings)`` makes ``model.backend = "span"`` choose the class."""

    def decorate(cls: type[T]) -> type[T]:
        settings.backend = name
        _REGISTRY[name] = Backend(name, cls, settings, frozenset(legacy_keys))  # type: ignore[arg-type]
        return cls

    return decorate


def backend(name: str) -> Backend:
    """The backend registered as ``name`` (importing its module on first use); unknown: a one-line error."""
    if name not in _REGISTRY:
        module = f"{__package__}.{name.replace('-', '_')}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
        else:
            for entry in importlib.metadata.entry_points(group=ENTRY_POINTS, name=name):
                importlib.import_module(entry.value)
    if name not in _REGISTRY:
        raise BionerError(f"unknown backend {name!r}; known backends: {', '.join(backend_names())}")
    return _REGISTRY[name]


def backend_names() -> list[str]:
    """Every backend this installation has: the modules of this package that register one, and plug-ins."""
    for info in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
        try:
            importlib.import_module(f"{__package__}.{info.name}")
        except ImportError:  # a backend whose optional extra is not installed is still listed by its plug-ins
            continue
    for entry in importlib.metadata.entry_points(group=ENTRY_POINTS):
        importlib.import_module(entry.value)
    return sorted(_REGISTRY)


def settings_from(name: str, table: Mapping[str, Any], source: str, *, saved: bool = False) -> BackendSettings:
    """Backend ``name``'s settings from a ``[model]`` table (without ``backend``), every key checked.

    A key another backend has is named as such. ``saved`` (reading a model folder) ignores the
    keys that folders saved before per-backend settings held for every backend.
    """
    spec = backend(name)
    settings = spec.settings()
    own = _fields(spec.settings)
    for key in table:
        if not (saved and key in spec.legacy_keys):
            check_key(name, key, source)
    fill(settings, {k: v for k, v in table.items() if k in own}, "model", source)
    problems = settings.problems()
    if problems:
        raise BionerError(f"{source}: {problems[0]}")
    return settings


def check_key(name: str, key: str, source: str) -> None:
    """A ``[model]`` key that backend ``name`` lacks is an error, naming the backends that have it."""
    spec = backend(name)
    if key in _fields(spec.settings):
        return
    others = [other for other in backend_names() if key in _fields(_REGISTRY[other].settings)]
    if others:
        kind = "backend" if len(others) == 1 else "backends"
        raise BionerError(f"{source}: model.{key} is a setting of the {' and '.join(others)} {kind}, not of {name!r}")
    known = ", ".join(["backend", *_fields(spec.settings)])
    raise BionerError(f"{source}: unknown config key 'model.{key}'; [model] of backend {name!r} has: {known}")


def _fields(settings: type[BackendSettings]) -> set[str]:
    return {f.name for f in dataclasses.fields(settings)}


def read_model_config(folder: str | Path) -> dict[str, Any]:
    """The ``config.toml`` of a saved model folder as tables; a folder without one is a one-line error."""
    path = Path(folder) if Path(folder).is_file() else Path(folder) / CONFIG_FILE  # a config file of a zero-shot model
    if not path.is_file():
        raise BionerError(f"{folder}: not a bioner model folder (no {CONFIG_FILE})")
    try:
        with path.open("rb") as handle:
            tables = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise BionerError(f"{path}: invalid TOML: {err}") from None
    if not isinstance(tables.get("model", {}), dict):
        raise BionerError(f"{path}: [model] must be a table")
    return tables


def saved_settings(folder: str | Path) -> tuple[Backend, BackendSettings, dict[str, Any]]:
    """A saved model's backend, its settings and the other tables of its config."""
    tables = read_model_config(folder)
    model = dict(tables.get("model", {}))
    name = model.pop("backend", DEFAULT_BACKEND)
    if not isinstance(name, str):
        raise BionerError(f"{Path(folder) / CONFIG_FILE}: model.backend must be a string")
    settings = settings_from(name, model, str(Path(folder) / CONFIG_FILE), saved=True)
    return backend(name), settings, tables


def saved_runtime(tables: Mapping[str, Any]) -> Runtime:
    """The runtime a saved model predicts with: its training batch size and precision, on this machine's device."""
    train = tables.get("train", {})
    return Runtime(
        device="auto",  # the machine that loads a model is seldom the one that trained it
        precision=str(train.get("precision", "auto")),
        batch_size=int(train.get("eval_batch_size", Runtime.batch_size)),
    )


def load_model(folder: str | Path, *, runtime: Runtime | None = None) -> Predictor:
    """A trained model from its folder, whatever its backend."""
    spec, _, _ = saved_settings(folder)
    return spec.cls.from_pretrained(folder, runtime=runtime)


def predict_timed(
    model: Predictor,
    docs: Sequence[Document],
    *,
    labels: Sequence[str] | None = None,
    chunk: int = 16,
    report: Report | None = None,
    progress: bool = False,
) -> tuple[list[Document], Any]:
    """Predictions for ``docs`` with their timing (:class:`bioner.timing.Timing`), ``chunk`` documents at a time.

    A batched model has no per-document cost to read off, so each chunk's time is
    shared evenly by its documents (see :class:`bioner.timing.LatencyRecorder`). Chunks
    of 16 documents still fill the model's batches (a document holds many sentences)
    while their spread gives the latency percentiles some meaning.
    """
    from bioner.progress import progress_bar
    from bioner.timing import LatencyRecorder

    recorder = LatencyRecorder()
    predicted: list[Document] = []
    bar = progress_bar(unit="doc", enabled=progress)
    with bar:
        task = bar.add_task("predict", total=len(docs), info="")
        for start in range(0, len(docs), chunk):
            part = docs[start : start + chunk]
            with recorder.measure(part):
                predicted.extend(model.predict(part, labels=labels, report=report))
            bar.update(task, advance=len(part))
    return predicted, recorder.timing()
