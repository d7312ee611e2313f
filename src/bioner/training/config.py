"""The typed configuration of a training run: TOML files, ``--set a.b=value`` overrides, the resolved copy.

A config has five tables, ``[data]``, ``[model]``, ``[train]``, ``[dbr]`` and ``[link]`` (the
entity linker run after prediction, saved with the model); every key has a
default, so a file names only what it changes. ``[model]`` is the chosen backend's settings
(``model.backend`` picks the backend, :mod:`bioner.models.registry`), so a key of another
backend is an error naming both. Unknown keys, values of the wrong type and non-finite
numbers are one-line errors naming the key (:mod:`bioner.settings`), because a typo that is
silently ignored costs a whole training run. The fully resolved config (every default filled
in) is saved beside each trained model, so a model says exactly how it was made.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from bioner.backbones import DEFAULT_BACKBONE
from bioner.errors import BionerError
from bioner.formats.common import open_write
from bioner.knowledge.dense import DbrConfig
from bioner.linking.linker import LinkConfig
from bioner.models.base import BackendSettings
from bioner.models.registry import DEFAULT_BACKEND, check_key, settings_from
from bioner.settings import as_table, assign, choice_problems, fill, parse_value

__all__ = ["DEFAULT_BACKBONE", "Config", "DataConfig", "DbrConfig", "LinkConfig", "TrainConfig", "load_config"]


@dataclass
class DataConfig:
    """Where the documents come from: a named corpus, or files (any format ``bioner`` reads)."""

    corpus: str | None = None
    """A named corpus (``bioner corpus list``); its train/dev/test splits are used."""
    data_dir: str | None = None
    """The folder holding the corpora (default: ``BIONER_DATA`` or ``bioner.toml``)."""
    train: str | None = None
    """A training file, in place of a named corpus."""
    dev: str | None = None
    test: str | None = None
    format: str | None = None
    """The format of the files (default: guessed from their names)."""
    limit: int | None = None
    """Use only the first N documents of each split (smoke runs); with a mixture, of each corpus's split."""
    mixture: list[str] = field(default_factory=list)
    """Named corpora trained on together (one model for all), in place of ``corpus`` or files."""
    weights: list[float] = field(default_factory=list)
    """Sampling weight per ``mixture`` corpus (default 1 each): a corpus's training examples are used ``weight``
    times per epoch (fractions subsample, reproducibly by seed)."""


@dataclass
class TrainConfig:
    """The optimisation: AdamW with linear warm-up and decay, early stopping on dev strict F1."""

    epochs: int = 20
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    """Fraction of the optimizer steps spent warming the learning rate up from zero."""
    max_grad_norm: float = 1.0
    """Gradient clipping; 0 disables it."""
    grad_accumulation: int = 1
    """Batches whose gradients add up to one optimizer step."""
    patience: int = 3
    """Stop after this many epochs without a better dev F1; 0 disables early stopping."""
    seed: int = 13
    max_steps: int = 0
    """Stop after this many optimizer steps (0: no limit); smoke runs use it."""
    max_minutes: float = 0.0
    """Stop training after this many minutes of this invocation (0: no limit); the dev scoring of the
    last (partial) epoch and the saving follow."""
    schedule: str = "linear"
    """Learning rate after warm-up: ``linear`` decay to zero, or ``constant`` (as VANER trains)."""
    precision: str = "auto"
    """``auto`` (bf16 on a GPU, fp32 on a CPU), ``bf16`` or ``fp32``."""
    device: str = "auto"
    """``auto`` (CUDA when there is one), ``cpu``, ``cuda``, ``cuda:1``..."""
    layer_decay: float = 1.0
    """Layer-wise learning-rate decay: layer ``k`` from the top learns at ``rate × layer_decay**k`` (the
    embeddings lowest, the head at the full rate); 1 keeps one rate for all."""
    head_learning_rate: float = 0.0
    """Learning rate of what sits on top of the pretrained backbone (a fresh head: GLiNER's LSTM, span
    and label layers, the encoder's classifier); 0: ``learning_rate``. GLiNER's own training configs give
    these 3 times its encoder's rate (``lr_others`` 3e-5, ``lr_encoder`` 1e-5)."""
    ema: float = 0.0
    """Decay of an exponential moving average of the weights, updated every optimizer step (e.g. 0.999); dev
    scoring and the saved model use the averaged weights. 0: no averaging."""


def _default_model() -> BackendSettings:
    return settings_from(DEFAULT_BACKEND, {}, "<defaults>")


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: BackendSettings = field(default_factory=_default_model)
    train: TrainConfig = field(default_factory=TrainConfig)
    dbr: DbrConfig = field(default_factory=DbrConfig)
    link: LinkConfig = field(default_factory=LinkConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict without ``None`` values (TOML has no null); ``[model]`` starts with its backend."""
        tables = {name: as_table(getattr(self, name)) for name in _TABLES}
        tables["model"] = {"backend": self.model.backend, **tables["model"]}
        return tables

    def save(self, path: str | Path) -> Path:
        """Write the resolved config as TOML (atomically)."""
        with open_write(path) as out:
            out.write(tomli_w.dumps(self.to_dict()))
        return Path(path)


_TABLES = ("data", "model", "train", "dbr", "link")
TRAIN_CHOICES = {"precision": ("auto", "bf16", "fp32"), "schedule": ("linear", "constant")}
SHORTHANDS = {"dbr": "dbr.mode"}
"""Top-level keys that stand for a key of a table (``dbr = "retrieved"`` is ``dbr.mode``)."""


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Config:
    """The config of a TOML file (or the defaults), with ``key=value`` overrides applied and checked.

    Relative data paths in the file resolve against the file's folder, so a config
    works from any working directory.
    """
    raw: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            with Path(path).open("rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            raise BionerError(f"{path}: no such config file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise BionerError(f"{path}: invalid TOML: {err}") from None
    config = from_dict(raw, source)
    if path is not None:
        _resolve_paths(config.data, Path(path).resolve().parent)
        _resolve_paths(config.dbr, Path(path).resolve().parent)
        _resolve_paths(config.link, Path(path).resolve().parent)
    return apply_overrides(config, overrides)


def from_dict(raw: Mapping[str, Any], source: str = "<config>") -> Config:
    """A config from nested tables, with every key and type checked."""
    config = Config()
    for section, values in raw.items():
        if section in SHORTHANDS and not isinstance(values, Mapping):
            _assign(config, SHORTHANDS[section], values, source)
            continue
        if section not in _TABLES:
            raise BionerError(f"{source}: unknown config table [{section}]; tables are: {', '.join(_TABLES)}")
        if not isinstance(values, Mapping):
            raise BionerError(f"{source}: [{section}] must be a table")
        if section == "model":
            table = dict(values)
            name = table.pop("backend", DEFAULT_BACKEND)
            if not isinstance(name, str):
                raise BionerError(f"{source}: config key 'model.backend' must be a string, got {name!r}")
            config.model = settings_from(name, table, source)
        else:
            fill(getattr(config, section), values, section, source)
    validate(config, source)
    return config


def apply_overrides(config: Config, overrides: Iterable[str]) -> Config:
    """``["train.epochs=3", "model.scheme=IOBES"]`` applied to a copy of ``config``.

    A value is read as a TOML value when it parses as one (``3``, ``1e-5``, ``true``,
    ``["A", "B"]``) and as a plain string otherwise; ``none`` clears an optional key (and is the
    string ``"none"`` for a key that must hold a string, such as ``model.quantize``).
    ``model.backend`` is applied first: the settings the old backend changed from its defaults
    carry over when the new backend has them, and are an error when it does not.
    """
    out = copy.deepcopy(config)
    pairs = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise BionerError(f"--set {item!r}: expected key=value, e.g. train.epochs=3")
        pairs.append((SHORTHANDS.get(key.strip(), key.strip()), parse_value(text.strip())))
    for key, value in sorted(pairs, key=lambda pair: pair[0] != "model.backend"):
        _assign(out, key, value, "--set")
    if pairs:
        validate(out, "--set")
    return out


def _assign(config: Config, key: str, value: Any, source: str) -> None:
    key = SHORTHANDS.get(key, key)
    section, _, name = key.partition(".")
    if section not in _TABLES or not name:
        raise BionerError(f"{source}: unknown config key {key!r}; keys start with one of: {', '.join(_TABLES)}")
    if key == "model.backend":
        if not isinstance(value, str):
            raise BionerError(f"{source}: config key 'model.backend' must be a string, got {value!r}")
        old = config.model
        defaults = type(old)()
        changed = {k: v for k, v in as_table(old).items() if v != getattr(defaults, k)}
        config.model = settings_from(value, changed, source)
        return
    if section == "model":
        check_key(config.model.backend, name, source)
    assign(getattr(config, section), name, value, key, source)


def validate(config: Config, source: str = "<config>") -> None:
    """Checks across keys (ranges and choices) that a type alone cannot express."""
    train, data = config.train, config.data
    problems = config.model.problems() + choice_problems(train, "train", TRAIN_CHOICES)
    if data.mixture and (data.corpus is not None or data.train is not None):
        problems.append("give either data.mixture (named corpora) or data.corpus / data.train, not both")
    if data.weights and len(data.weights) != len(data.mixture):
        problems.append(f"data.weights needs one weight per data.mixture corpus, got {len(data.weights)}")
    if any(w <= 0 for w in data.weights):
        problems.append("data.weights must be positive")
    if not 0.0 <= train.warmup_ratio < 1.0:
        problems.append(f"train.warmup_ratio must be in [0, 1), got {train.warmup_ratio}")
    for name in ("epochs", "batch_size", "eval_batch_size", "grad_accumulation"):
        if getattr(train, name) < 1:
            problems.append(f"train.{name} must be at least 1, got {getattr(train, name)}")
    for name in ("patience", "max_steps", "max_minutes", "max_grad_norm", "weight_decay"):
        if getattr(train, name) < 0:
            problems.append(f"train.{name} must not be negative, got {getattr(train, name)}")
    if not 0.0 < train.layer_decay <= 1.0:
        problems.append(f"train.layer_decay must be in (0, 1], got {train.layer_decay}")
    if train.head_learning_rate < 0:
        problems.append(
            f"train.head_learning_rate must not be negative (0: train.learning_rate), got {train.head_learning_rate}"
        )
    if not 0.0 <= train.ema < 1.0:
        problems.append(f"train.ema must be in [0, 1), got {train.ema}")
    if train.learning_rate <= 0:
        problems.append(f"train.learning_rate must be positive, got {train.learning_rate}")
    if data.limit is not None and data.limit < 1:
        problems.append(f"data.limit must be at least 1, got {data.limit}")
    if data.corpus is not None and data.train is not None:
        problems.append("give either data.corpus or data.train (files), not both")
    problems.extend(config.dbr.problems())
    problems.extend(config.link.problems())
    if problems:
        raise BionerError(f"{source}: {problems[0]}")


def _resolve_paths(data: DataConfig | DbrConfig | LinkConfig, base: Path) -> None:
    for name in ("train", "dev", "test", "data_dir", "kb", "cache_dir", "index"):
        value = getattr(data, name, None)
        if value is not None and not Path(value).expanduser().is_absolute():
            setattr(data, name, str((base / value).resolve()))


def model_config(folder: str | Path) -> Config:
    """The training config saved in a model folder (folders saved before per-backend settings included)."""
    from bioner.models.registry import saved_settings

    _, settings, tables = saved_settings(folder)
    config = from_dict({k: v for k, v in tables.items() if k != "model"}, str(Path(folder) / "config.toml"))
    config.model = settings
    return config
