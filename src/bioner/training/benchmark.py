"""``bioner benchmark``: a matrix of systems × corpora × seeds, trained, tested and compared on one scorer.

A benchmark file (TOML, in ``configs/benchmarks/``) names the systems (a training config and
``--set`` overrides each), the corpora (named ones, or file triples under ``[files.NAME]``), the
seeds and the splits to test on. Every cell trains in its own run folder
(``OUTPUT/SYSTEM/CORPUS/seed-N``) and tests the saved model on the same documents with the same
scorer (:func:`bioner.evaluation.evaluate.evaluate`); a cell whose model and predictions are there
is reused, and a cell killed in training resumes from its checkpoint, so re-running the command
after any interruption only does what is left. The results are a Markdown table per split
(strict and partial P/R/F1, strict F1 by mention length, time per document, the paired-bootstrap
interval of the strict F1 difference against the reference system), ``results.json`` and a PNG
per split (F1 per system with its bootstrap interval; F1 against documents per second).

A system can also be an outside program (``command = [...]``), such as the plain transformers recipe
(``benchmarks/run_ner_baseline.py``): it runs once per cell, in the benchmark file's folder, with
``{python}``, ``{corpus}``, ``{seed}`` and ``{output}`` (the cell folder) filled in (and ``{train}``,
``{dev}``, ``{test}``, ``{format}`` for a corpus given as files), and must leave
``predictions-SPLIT.jsonl`` for every tested split in the cell folder; bioner scores them as it
scores its own, so an outside system is judged by the same protocol on the same documents.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bioner.errors import BionerError, Report
from bioner.evaluation.evaluate import evaluate
from bioner.evaluation.report import EvalReport
from bioner.evaluation.significance import compare, document_counts, f1
from bioner.figures import new_figure, save_figure
from bioner.files import atomic_path
from bioner.formats import read_documents, write_documents
from bioner.models.registry import load_model, predict_timed
from bioner.stats import LENGTH_BUCKETS
from bioner.timing import Timing, read_sidecar, write_sidecar
from bioner.training.config import Config, load_config, model_config
from bioner.training.data import load_splits
from bioner.training.loop import CHECKPOINT_FILE
from bioner.training.recipe import fit
from bioner.types import Document

TRAINED_MARK = "benchmark-trained.json"
"""Written in a cell's run folder once its training has finished (the model there is final)."""
SPLITS = ("dev", "test")
COMMAND_LOG = "command.log"
"""An outside system's standard output and error, in its cell folder."""
PLACEHOLDERS = ("python", "corpus", "seed", "output")
FILE_PLACEHOLDERS = ("train", "dev", "test", "format")
"""Filled in only for a corpus given as ``[files.NAME]``."""


@dataclass(frozen=True)
class System:
    """One system: a training config (None: the defaults) and the overrides applied to it."""

    name: str
    config: Path | None
    overrides: tuple[str, ...] = ()
    model: Path | None = None
    """A model trained elsewhere (a run folder, read only): tested as it is, not trained again."""
    command: tuple[str, ...] = ()
    """An outside program that trains and predicts on its own (see the module docstring); () for bioner."""
    workdir: Path | None = None
    """Where ``command`` runs: the benchmark file's folder, so relative paths in it read as config paths do."""


@dataclass(frozen=True)
class Benchmark:
    """The matrix a benchmark file describes."""

    name: str
    systems: tuple[System, ...]
    corpora: tuple[str, ...]
    seeds: tuple[int, ...] = (42,)
    splits: tuple[str, ...] = ("test",)
    reference: str = ""
    """The system every other is compared with (default: the first)."""
    train_limit: int | None = None
    """Train on the first N training documents only (dev and test stay whole): a stated, fixed subset."""
    files: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Corpora given as files: name -> {train, dev, test[, format]} (paths relative to the benchmark file)."""
    samples: int = 1000
    """Bootstrap resamples of the documents."""


@dataclass(frozen=True)
class Cell:
    """One system on one corpus with one seed, scored on one split."""

    system: str
    corpus: str
    seed: int
    split: str
    report: EvalReport
    f1_interval: tuple[float, float]
    comparison: dict[str, float] | None
    """Strict F1 minus the reference's on the same documents, with its bootstrap interval; None for the reference."""


def load_benchmark(path: str | Path) -> Benchmark:
    """The benchmark a TOML file describes; anything wrong is a one-line error naming the file and key."""
    source = Path(path)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BionerError(f"{source}: no such benchmark file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise BionerError(f"{source}: invalid TOML: {err}") from None
    base = source.resolve().parent
    known = {"name", "system", "corpora", "seeds", "splits", "reference", "train_limit", "files", "samples"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise BionerError(f"{source}: unknown key {unknown[0]!r}; keys are: {', '.join(sorted(known))}")
    systems = []
    for i, table in enumerate(_list(raw, "system", source, required=True)):
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            raise BionerError(f'{source}: system {i + 1} needs a name (name = "...")')
        extra = sorted(set(table) - {"name", "config", "set", "model", "command"})
        if extra:
            raise BionerError(
                f"{source}: system {table['name']!r}: unknown key {extra[0]!r} "
                "(keys: name, config, set, model, command)"
            )
        if "command" in table:
            systems.append(_command_system(table, source, base))
            continue
        model = table.get("model")
        if model is not None and not isinstance(model, str):
            raise BionerError(f"{source}: system {table['name']!r}: model must be the path of a trained model folder")
        config = table.get("config")
        overrides = table.get("set", [])
        if config is not None and not isinstance(config, str):
            raise BionerError(f"{source}: system {table['name']!r}: config must be a path")
        if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
            raise BionerError(f'{source}: system {table["name"]!r}: set must be a list of "key=value" strings')
        trained = base / model if model else None
        systems.append(System(table["name"], base / config if config else None, tuple(overrides), trained))
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        raise BionerError(f"{source}: two systems share a name")
    files = raw.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise BionerError(f"{source}: [files.NAME] tables need train, dev and test paths")
    resolved = {
        name: {k: str(base / v) if k != "format" else v for k, v in paths.items()} for name, paths in files.items()
    }
    splits = tuple(_list(raw, "splits", source) or ["test"])
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        raise BionerError(f"{source}: splits: {bad[0]!r} is not one of {', '.join(SPLITS)}")
    reference = raw.get("reference", names[0])
    if reference not in names:
        raise BionerError(f"{source}: reference {reference!r} is none of the systems ({', '.join(names)})")
    limit = raw.get("train_limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise BionerError(f"{source}: train_limit must be a positive number of documents")
    return Benchmark(
        name=str(raw.get("name", source.stem)),
        systems=tuple(systems),
        corpora=tuple(str(c) for c in _list(raw, "corpora", source, required=True)),
        seeds=tuple(int(s) for s in _list(raw, "seeds", source) or [42]),
        splits=splits,
        reference=reference,
        train_limit=limit,
        files=resolved,
        samples=int(raw.get("samples", 1000)),
    )


def _command_system(table: Mapping[str, Any], source: Path, base: Path) -> System:
    """An outside program as a system; its placeholders are checked here, before anything runs."""
    name = table["name"]
    command = table["command"]
    if not isinstance(command, list) or not command or not all(isinstance(part, str) for part in command):
        raise BionerError(f"{source}: system {name!r}: command must be a non-empty list of strings")
    mixed = sorted({"config", "set", "model"} & set(table))
    if mixed:
        raise BionerError(f"{source}: system {name!r}: a command system takes no {mixed[0]!r} (it trains on its own)")
    for part in command:
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(part) if field is not None]
        except ValueError as err:
            raise BionerError(f"{source}: system {name!r}: command part {part!r}: {err}") from None
        unknown = [f for f in fields if f not in (*PLACEHOLDERS, *FILE_PLACEHOLDERS)]
        if unknown:
            known = ", ".join("{" + p + "}" for p in (*PLACEHOLDERS, *FILE_PLACEHOLDERS))
            raise BionerError(f"{source}: system {name!r}: unknown placeholder {{{unknown[0]}}} (known: {known})")
    return System(name, None, command=tuple(command), workdir=base)


def _list(raw: Mapping[str, Any], key: str, source: Path, *, required: bool = False) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list) or (required and not value):
        raise BionerError(
            f"{source}: {key} must be a non-empty list" if required else f"{source}: {key} must be a list"
        )
    return value


def select(bench: Benchmark, corpora: Sequence[str] = (), systems: Sequence[str] = ()) -> Benchmark:
    """The part of the matrix on ``corpora`` and ``systems`` (empty: all), to run cells in parallel or one at a time.

    Without the reference system among ``systems`` the others are scored but not compared.
    """
    names = [s.name for s in bench.systems]
    for wanted, have, what in ((corpora, bench.corpora, "corpus"), (systems, names, "system")):
        missing = [name for name in wanted if name not in have]
        if missing:
            raise BionerError(f"{bench.name}: no {what} {missing[0]!r} in the benchmark (it has: {', '.join(have)})")
    return replace(
        bench,
        corpora=tuple(c for c in bench.corpora if not corpora or c in corpora),
        systems=tuple(s for s in bench.systems if not systems or s.name in systems),
    )


def cell_config(system: System, corpus: str, seed: int, bench: Benchmark) -> Config:
    """The system's training config pointed at ``corpus`` with ``seed``."""
    data = [f"data.corpus={corpus}"]
    if corpus in bench.files:
        paths = bench.files[corpus]
        data = [f"data.{key}={value}" for key, value in paths.items()]
    return load_config(system.config, [*system.overrides, *data, f"train.seed={seed}"])


def run_benchmark(
    bench: Benchmark, output: str | Path, *, progress: bool = False, report: Report | None = None
) -> list[Cell]:
    """Train (or reuse) every cell, test it on each split and write the tables, JSON and plots under ``output``."""
    report = report if report is not None else Report()
    out = Path(output)
    predictions: dict[tuple[str, str, int, str], list[Document]] = {}
    timings: dict[tuple[str, str, int, str], Timing | None] = {}
    golds: dict[tuple[str, str], list[Document]] = {}
    labels: dict[str, list[str]] = {}
    for corpus in bench.corpora:
        for seed in bench.seeds:
            for system in bench.systems:
                config = cell_config(system, corpus, seed, bench)
                folder = out / system.name / corpus / f"seed-{seed}"
                if system.command:
                    splits = load_splits(config.data, bench.splits, report)
                    _run_command(system, corpus, seed, folder, bench, progress)
                    for split in bench.splits:
                        golds.setdefault((corpus, split), splits[split])
                        path = folder / f"predictions-{split}.jsonl"
                        key = (system.name, corpus, seed, split)
                        predictions[key], timings[key] = list(read_documents(path)), read_sidecar(path)
                    continue
                model = system.model or folder
                if system.model is not None and not (system.model / "config.toml").is_file():
                    raise BionerError(f"system {system.name!r}: {system.model} is not a trained model folder")
                if system.model is None:
                    splits = load_splits(config.data, ("train", "dev", *bench.splits), report)
                    _train_cell(config, splits, folder, bench.train_limit, progress, report)
                else:
                    splits = load_splits(config.data, bench.splits, report)
                for split in bench.splits:
                    gold = golds.setdefault((corpus, split), splits[split])
                    key = (system.name, corpus, seed, split)
                    predictions[key], timings[key] = _predict_cell(model, folder, split, gold, progress, report)
                labels.setdefault(corpus, list(model_config(model).model.labels))
    compared = any(s.name == bench.reference for s in bench.systems)
    cells = []
    for (name, corpus, seed, split), pred in predictions.items():
        gold = golds[(corpus, split)]
        # An outside system's labels are the bioner systems' (one label set per corpus); alone, the gold's.
        known = labels.get(corpus) or None
        scored = evaluate(gold, pred, labels=known, timing=timings[(name, corpus, seed, split)])
        comparison = None
        if name != bench.reference and compared:
            ref = predictions[(bench.reference, corpus, seed, split)]
            result = compare(gold, pred, ref, "strict", n=bench.samples, labels=known)
            comparison = {"delta": result.delta, "low": result.ci_low, "high": result.ci_high, "p": result.p_value}
        interval = f1_interval(gold, pred, known, bench.samples)
        cells.append(Cell(name, corpus, seed, split, scored, interval, comparison))
    write_results(bench, cells, out)
    return cells


def command_line(system: System, corpus: str, seed: int, folder: Path, bench: Benchmark) -> list[str]:
    """The system's command with its placeholders filled in for one cell."""
    values = {"python": sys.executable, "corpus": corpus, "seed": str(seed), "output": str(folder.resolve())}
    values.update(bench.files.get(corpus, {}))
    try:
        return [part.format(**values) for part in system.command]
    except KeyError as err:
        raise BionerError(
            f"system {system.name!r}: {{{err.args[0]}}} is filled in only for a corpus given as [files.NAME], "
            f"not for {corpus!r}"
        ) from None


def _run_command(system: System, corpus: str, seed: int, folder: Path, bench: Benchmark, progress: bool) -> None:
    """Run an outside system for one cell unless its predictions are all there; its output goes to command.log."""
    wanted = [folder / f"predictions-{split}.jsonl" for split in bench.splits]
    if all(path.is_file() for path in wanted):
        return
    argv = command_line(system, corpus, seed, folder, bench)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / COMMAND_LOG
    if progress:
        print(f"{system.name} on {corpus} (seed {seed}): running {' '.join(argv)}; output in {log}", file=sys.stderr)
    with log.open("w", encoding="utf-8") as sink:
        try:
            done = subprocess.run(argv, cwd=system.workdir, stdout=sink, stderr=subprocess.STDOUT, check=False)
        except OSError as err:
            raise BionerError(f"system {system.name!r}: cannot run {argv[0]!r}: {err.strerror}") from None
    if done.returncode != 0:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        last = f": {lines[-1].strip()}" if lines else ""
        raise BionerError(
            f"system {system.name!r} on {corpus} (seed {seed}) exited with {done.returncode} (see {log}){last}"
        )
    missing = [path.name for path in wanted if not path.is_file()]
    if missing:
        raise BionerError(
            f"system {system.name!r} on {corpus} (seed {seed}) finished without writing {folder / missing[0]}"
        )


def _train_cell(
    config: Config,
    splits: Mapping[str, list[Document]],
    folder: Path,
    train_limit: int | None,
    progress: bool,
    report: Report,
) -> None:
    """Train the cell unless its folder holds a finished run; resume an interrupted one."""
    if (folder / TRAINED_MARK).is_file():
        return
    train = splits["train"][:train_limit]
    resume = (folder / CHECKPOINT_FILE).is_file()
    _, result = fit(train, splits["dev"], config, folder, resume=resume, progress=progress, report=report)
    mark = {"training_documents": len(train), "stopped": result.stopped, "best_epoch": result.best_epoch}
    with atomic_path(folder / TRAINED_MARK) as tmp:
        tmp.write_text(json.dumps(mark, indent=2) + "\n", encoding="utf-8")


def _predict_cell(
    model: Path, folder: Path, split: str, gold: Sequence[Document], progress: bool, report: Report
) -> tuple[list[Document], Timing | None]:
    """The predictions of ``model`` on ``split`` (with their timing), made once into ``folder`` and then read back."""
    path = folder / f"predictions-{split}.jsonl"
    if path.is_file():
        return list(read_documents(path)), read_sidecar(path)
    tagger = load_model(model)
    predicted, timing = predict_timed(tagger, gold, report=report, progress=progress)
    write_documents(predicted, path)
    write_sidecar(timing, path)
    return predicted, timing


def f1_interval(
    gold: Sequence[Document], pred: Sequence[Document], labels: Sequence[str] | None, samples: int, seed: int = 0
) -> tuple[float, float]:
    """The 95 % percentile bootstrap interval of one system's strict F1, resampling documents."""
    counts = document_counts(gold, pred, "strict", labels)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(counts), size=(samples, len(counts)))
    scores = f1(counts[draws].sum(axis=1))
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def markdown_table(bench: Benchmark, cells: Sequence[Cell], split: str) -> str:
    """One row per cell of ``split``: strict / partial P R F1, strict F1 by length, ms per document, Δ vs reference."""
    lines = [
        f"| corpus | system | seed | strict P | strict R | strict F1 | partial P | partial R | partial F1 | "
        f"strict F1 by length {' / '.join(LENGTH_BUCKETS)} | ms / doc | Δ strict F1 vs {bench.reference} [95 % CI] |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|",
    ]
    for cell in sorted((c for c in cells if c.split == split), key=lambda c: (c.corpus, _order(bench, c), c.seed)):
        strict, partial = cell.report.overall["strict"], cell.report.overall["partial"]
        lengths = " / ".join(f"{cell.report.by_length[b]['strict'].f1:.3f}" for b in LENGTH_BUCKETS)
        timing = cell.report.timing
        ms = f"{timing.mean_ms:.1f}" if timing is not None else "–"
        delta = "reference" if cell.system == bench.reference else "–"
        if cell.comparison is not None:
            c = cell.comparison
            delta = f"{c['delta']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]"
        lines.append(
            f"| {cell.corpus} | {cell.system} | {cell.seed} | {strict.precision:.3f} | {strict.recall:.3f} | "
            f"{strict.f1:.3f} | {partial.precision:.3f} | {partial.recall:.3f} | {partial.f1:.3f} | {lengths} | "
            f"{ms} | {delta} |"
        )
    return "\n".join(lines) + "\n"


def _order(bench: Benchmark, cell: Cell) -> int:
    return [s.name for s in bench.systems].index(cell.system)


def write_results(bench: Benchmark, cells: Sequence[Cell], out: Path) -> None:
    """``results.json``, and per split ``benchmark-SPLIT.md`` and ``benchmark-SPLIT.png``."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "system": c.system,
            "corpus": c.corpus,
            "seed": c.seed,
            "split": c.split,
            "scores": c.report.to_dict(),
            "strict_f1_interval": list(c.f1_interval),
            "against_reference": c.comparison,
        }
        for c in cells
    ]
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps({"benchmark": bench.name, "cells": rows}, indent=2) + "\n", encoding="utf-8")
    for split in bench.splits:
        title = f"# {bench.name}: {split}\n\n"
        with atomic_path(out / f"benchmark-{split}.md") as tmp:
            tmp.write_text(title + markdown_table(bench, cells, split), encoding="utf-8")
        plot_cells(bench, [c for c in cells if c.split == split], out / f"benchmark-{split}.png")


def plot_cells(bench: Benchmark, cells: Sequence[Cell], path: Path) -> Path:
    """Strict F1 per system and corpus with its bootstrap interval; strict F1 against documents per second."""
    figure = new_figure(11, 4.2)
    bars, speed = figure.subplots(1, 2)
    systems = [s.name for s in bench.systems]
    width = 0.8 / max(1, len(bench.corpora))
    for k, corpus in enumerate(bench.corpora):
        means, lows, highs = [], [], []
        for name in systems:
            mine = [c for c in cells if c.system == name and c.corpus == corpus]
            score = float(np.mean([c.report.overall["strict"].f1 for c in mine])) if mine else 0.0
            means.append(score)
            lows.append(score - min((c.f1_interval[0] for c in mine), default=score))
            highs.append(max((c.f1_interval[1] for c in mine), default=score) - score)
        x = np.arange(len(systems)) + k * width
        bars.bar(x, means, width, yerr=[lows, highs], capsize=3, label=corpus)
        for cell in (c for c in cells if c.corpus == corpus and c.report.timing is not None):
            timing = cell.report.timing
            assert timing is not None
            speed.scatter(timing.docs_per_s, cell.report.overall["strict"].f1)
            speed.annotate(
                f"{cell.system} ({corpus})", (timing.docs_per_s, cell.report.overall["strict"].f1), fontsize=7
            )
    bars.set_xticks(np.arange(len(systems)) + width * (len(bench.corpora) - 1) / 2, systems, rotation=30, ha="right")
    bars.set_ylabel("strict F1 (95 % bootstrap interval)")
    bars.legend(fontsize=8)
    bars.set_title(f"{bench.name}: strict F1 per system")
    speed.set_xlabel("documents / s")
    speed.set_ylabel("strict F1")
    speed.set_title("accuracy against speed")
    figure.tight_layout()
    return save_figure(figure, path)
