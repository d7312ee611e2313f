"""The plan of a corpus run (input files, shards, the manifest) and the local, one-process engine.

The plan is what makes a rerun safe: shard names come from each input file's resolved path
and the shard's index, and ``manifest.json`` holds every option that changes what a shard
contains (the model's content hash, the shard size, the formats, the labels). A rerun with a
different manifest is refused rather than mixing two models' output in one folder; options that
only change speed (engine, workers, batch size) may change between runs.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bioner.errors import BionerError, Report
from bioner.formats import FORMATS, guess_format, write_documents
from bioner.formats.common import open_write
from bioner.formats.plain import TEXT, read_text_documents
from bioner.progress import progress_bar
from bioner.types import Document

MANIFEST = "manifest.json"
"""The options a folder of shards was written with, checked by every rerun."""
SUMMARY = "summary.json"
"""What the last run did: documents annotated, shards skipped as done, files skipped as bad."""
SHARD_SUFFIXES = {
    "jsonl": ".jsonl",
    "pubtator": ".pubtator",
    "bioc-xml": ".xml",
    "bioc-json": ".json",
    "conll": ".conll",
}
"""Output formats a shard can be written in (one file per shard), and their file endings."""
KILL_AFTER_ENV = "BIONER_KILL_AFTER_SHARDS"
"""Fault injection for resume tests: the process SIGKILLs itself after writing this many shards."""
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Options:
    """What a run's output depends on (the manifest), besides the input files."""

    model: str
    model_sha256: str
    shard_size: int
    input_format: str | None
    output_format: str
    labels: tuple[str, ...] | None


@dataclass(frozen=True)
class InputFile:
    path: Path
    fmt: str
    stem: str
    """The start of every shard name of this file: its name and a digest of its resolved path."""
    documents: int
    shard_size: int
    done: frozenset[int] = frozenset()
    """Indexes of the shards already on disk."""

    def shard_name(self, index: int, suffix: str) -> str:
        return f"{self.stem}.{index:05d}{suffix}"

    @property
    def sizes(self) -> list[int]:
        """The number of documents of each shard."""
        return [min(self.shard_size, self.documents - start) for start in range(0, self.documents, self.shard_size)]

    @property
    def pending_documents(self) -> int:
        return sum(size for i, size in enumerate(self.sizes) if i not in self.done)


@dataclass
class Summary:
    """Counts of a run, printed at its end and saved as ``summary.json``."""

    files: int = 0
    documents: int = 0
    annotated: int = 0
    shards_written: int = 0
    shards_already_done: int = 0
    documents_already_done: int = 0
    entities: int = 0
    seconds: float = 0.0
    skipped_files: dict[str, str] = field(default_factory=dict)
    """Input file -> why it was skipped (unknown format, unreadable); only with ``skip_bad``."""
    report: Report = field(default_factory=Report)

    @property
    def docs_per_s(self) -> float:
        return self.annotated / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        out = [
            f"annotated {self.annotated} documents in {self.shards_written} shards "
            f"({self.entities} entities, {self.docs_per_s:.1f} docs/s); "
            f"{self.files} input files, {self.documents} documents in all",
            f"skipped {self.shards_already_done} shards ({self.documents_already_done} documents): already done",
        ]
        if self.skipped_files:
            out.append(f"skipped {len(self.skipped_files)} input files:")
            out += [f"  {path}: {why}" for path, why in sorted(self.skipped_files.items())]
        return out + self.report.lines()

    def to_json(self) -> dict[str, Any]:
        record = {k: v for k, v in asdict(self).items() if k != "report"}
        record["docs_per_s"] = round(self.docs_per_s, 2)
        record["warnings"] = dict(self.report.warnings)
        record["losses"] = dict(self.report.losses)
        return record


def model_sha256(folder: Path) -> str:
    """A digest of every file of a model folder, so that a retrained model is not taken for the old one."""
    if not folder.is_dir():
        raise BionerError(f"{folder}: no such model folder")
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def make_options(
    model: Path, *, shard_size: int, input_format: str | None, output_format: str, labels: Sequence[str] | None
) -> Options:
    if shard_size < 1:
        raise BionerError(f"--shard-size must be at least 1, not {shard_size}")
    if output_format not in SHARD_SUFFIXES:
        raise BionerError(f"--format {output_format}: shards are written as one of {', '.join(SHARD_SUFFIXES)}")
    if input_format is not None and input_format != TEXT and input_format not in FORMATS:
        raise BionerError(f"--from {input_format}: unknown format; known: {', '.join(sorted([*FORMATS, TEXT]))}")
    return Options(
        model=str(model.resolve()),
        model_sha256=model_sha256(model),
        shard_size=shard_size,
        input_format=input_format,
        output_format=output_format,
        labels=tuple(labels) if labels is not None else None,
    )


def check_manifest(output: Path, options: Options) -> None:
    """Write the manifest of a new output folder, or refuse one written with other options."""
    manifest = output / MANIFEST
    wanted = asdict(options)
    wanted["labels"] = list(options.labels) if options.labels is not None else None
    if manifest.is_file():
        try:
            found = json.loads(manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BionerError(f"{manifest}: not a valid manifest; use a new OUTPUT folder") from None
        changed = [key for key in wanted if found.get(key) != wanted[key]]
        if changed:
            key = changed[0]
            raise BionerError(
                f"{output}: written with {key} {found.get(key)!r}, not {wanted[key]!r}; "
                "rerun with the same model and options, or give a new OUTPUT folder"
            )
        return
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise BionerError(f"{output}: exists and is not an annotate-corpus output folder (no {MANIFEST})")
    with open_write(manifest) as handle:
        json.dump(wanted, handle, indent=2)


def input_paths(source: str) -> list[Path]:
    """The files of a folder (recursively, hidden ones left out), of a glob, or the one file named."""
    path = Path(source)
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts)]
    elif path.is_file():
        found = [path]
    elif glob.has_magic(source):
        found = [Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file()]
    else:
        raise BionerError(f"{source}: no such file or folder")
    if not found:
        raise BionerError(f"{source}: no input files")
    return sorted(found)


def file_format(path: Path, fmt: str | None) -> str:
    """``fmt``, else plain text for ``.txt``, else the format the file name suggests."""
    if fmt is not None:
        return fmt
    if path.suffix.lower() == ".txt":
        return TEXT
    return guess_format(path)


def read_file(path: Path, fmt: str, report: Report) -> Iterator[Document]:
    """The documents of one input file, in reading order."""
    from bioner.formats import read_documents

    if fmt == TEXT:
        return iter(read_text_documents(path, report))
    return read_documents(path, fmt, report)


def plan(source: str, output: Path, options: Options, *, skip_bad: bool, summary: Summary) -> list[InputFile]:
    """Every input file with its document count and the shards of it already on disk.

    A file that cannot be read is a one-line error naming it, or (``skip_bad``) left out and
    counted in the summary. Counting reads every file once before any model work starts, so a
    bad file stops the run before hours of annotation, and the progress bar has a total.
    """
    suffix = SHARD_SUFFIXES[options.output_format]
    files = []
    for path in input_paths(source):
        try:
            fmt = file_format(path, options.input_format)
            count = sum(1 for _ in read_file(path, fmt, summary.report))
        except BionerError as err:
            if not skip_bad:
                raise
            summary.skipped_files[str(path)] = str(err).removeprefix(f"{path}: ")
            continue
        resolved = str(path.resolve())
        stem = f"{_SLUG.sub('_', path.name)}.{hashlib.sha256(resolved.encode()).hexdigest()[:10]}"
        file = InputFile(path, fmt, stem, count, options.shard_size)
        done = frozenset(i for i in range(len(file.sizes)) if (output / file.shard_name(i, suffix)).is_file())
        files.append(replace(file, done=done))
    summary.files = len(files)
    summary.documents = sum(f.documents for f in files)
    summary.shards_already_done = sum(len(f.done) for f in files)
    summary.documents_already_done = sum(f.documents - f.pending_documents for f in files)
    return files


def shards_of(docs: Iterator[Document], size: int) -> Iterator[list[Document]]:
    """Consecutive chunks of ``size`` documents (the last one shorter)."""
    chunk: list[Document] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ShardWriter:
    """Writes finished shards atomically, counts them, and obeys the resume tests' kill switch."""

    def __init__(self, output: Path, options: Options, summary: Summary) -> None:
        self.output = output
        self.options = options
        self.summary = summary
        kill_after = os.environ.get(KILL_AFTER_ENV)
        self.kill_after = int(kill_after) if kill_after else None

    def write(self, file: InputFile, index: int, docs: Sequence[Document]) -> None:
        target = self.output / file.shard_name(index, SHARD_SUFFIXES[self.options.output_format])
        self.summary.report.merge(write_documents(docs, target, self.options.output_format))
        self.summary.shards_written += 1
        self.summary.annotated += len(docs)
        self.summary.entities += sum(len(d.entities) for d in docs)
        if self.kill_after is not None and self.summary.shards_written >= self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)


def annotate_local(
    files: Sequence[InputFile],
    output: Path,
    options: Options,
    summary: Summary,
    *,
    batch_size: int | None = None,
    progress: bool = True,
) -> None:
    """Annotate the pending shards in this process, one file and one shard at a time."""
    from bioner.api import load

    tagger = load(options.model, batch_size=batch_size)
    writer = ShardWriter(output, options, summary)
    labels = list(options.labels) if options.labels is not None else None
    started = time.perf_counter()
    with progress_bar(unit="doc", enabled=progress) as bar:
        task = bar.add_task("annotate", total=sum(f.pending_documents for f in files), info="")
        for file in files:
            if not file.pending_documents:
                continue
            for index, docs in enumerate(shards_of(read_file(file.path, file.fmt, Report()), options.shard_size)):
                if index in file.done:
                    continue
                writer.write(file, index, tagger.predict(docs, labels=labels, report=summary.report))
                bar.advance(task, len(docs))
    summary.seconds = time.perf_counter() - started


def write_summary(output: Path, summary: Summary) -> None:
    with open_write(output / SUMMARY) as handle:
        json.dump(summary.to_json(), handle, indent=2)


def read_shards(output: Path) -> Iterator[Document]:
    """Every document of a JSONL output folder, shard by shard in name order (for checks and tests)."""
    from bioner.formats import read_documents

    for path in sorted(output.glob("*.jsonl")):
        yield from read_documents(path, "jsonl")
