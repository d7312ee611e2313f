"""The Ray engine: input files read by Ray Data, documents batched to a pool of model actors.

The dataset is one row per pending input file; ``flat_map`` reads each file (in a Ray task,
so reading runs beside prediction) into one row per document of a shard not yet on disk;
``map_batches`` with a callable class sends batches of those rows to ``workers`` model actors
(one CPU each, or one GPU each where the cluster has GPUs). The driver streams the predicted
rows back with ``iter_rows`` and writes each shard atomically as soon as all its documents have
come back, so what is on disk is always whole shards, as with the local engine.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bioner.annotate.corpus import InputFile, Options, ShardWriter, Summary, read_file, shards_of
from bioner.errors import BionerError, Report
from bioner.extras import need
from bioner.formats.jsonl import from_record, to_record
from bioner.progress import progress_bar

READ_CPUS = 0.25
"""CPUs a read task asks for: reading is light, and must not wait for CPUs the model actors hold."""


class ReadShards:
    """``flat_map`` function: the documents of one input file's pending shards, as rows."""

    def __init__(self, shard_size: int) -> None:
        self.shard_size = shard_size

    def __call__(self, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        done = set(json.loads(row["done"]))
        report = Report()
        docs = read_file(Path(row["path"]), row["fmt"], report)
        for shard, chunk in enumerate(shards_of(docs, self.shard_size)):
            if shard in done:
                continue
            for index, doc in enumerate(chunk):
                record = json.dumps(to_record(doc), ensure_ascii=False)
                yield {"file": row["file"], "shard": shard, "size": len(chunk), "index": index, "record": record}


class Annotator:
    """``map_batches`` callable class: one model per actor, loaded once, predicting batches of rows."""

    def __init__(self, model: str, batch_size: int | None, labels: list[str] | None) -> None:
        from bioner.api import load

        self.tagger = load(model, batch_size=batch_size)
        self.labels = labels

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        docs = [from_record(json.loads(record)) for record in batch["record"]]
        report = Report()
        predicted = self.tagger.predict(docs, labels=self.labels, report=report)
        counts = json.dumps({"warnings": report.warnings, "losses": report.losses})
        return {
            "file": batch["file"],
            "shard": batch["shard"],
            "size": batch["size"],
            "index": batch["index"],
            "record": [json.dumps(to_record(d), ensure_ascii=False) for d in predicted],
            "report": [counts, *([""] * (len(predicted) - 1))],
        }


def annotate_ray(
    files: Sequence[InputFile],
    output: Path,
    options: Options,
    summary: Summary,
    *,
    address: str | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> None:
    """Annotate the pending shards on Ray: a local one started here, or the cluster at ``address``.

    ``workers`` model actors (default: one per GPU of the cluster, else 2) each take one GPU
    where the cluster has GPUs, else one CPU. A Ray started here is shut down at the end.
    """
    ray = need("ray", "ray", "--engine ray")
    need("ray.data", "ray", "--engine ray")
    pending = [f for f in files if f.pending_documents]
    if not pending:
        return
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # our own progress bar says how far it is
    ray.data.DataContext.get_current().enable_progress_bars = False
    started_here = not ray.is_initialized()
    if started_here:
        local_cpus = None if address else (workers or 2) + 1  # the actors, plus one for reading and the driver
        ray.init(address=address, num_cpus=local_cpus, include_dashboard=False, log_to_driver=False)
    try:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        actors = workers or gpus or 2
        if actors < 1:
            raise BionerError(f"--workers must be at least 1, not {actors}")
        _run(ray, pending, output, options, summary, actors, gpus, batch_size, progress)
    finally:
        if started_here:
            ray.shutdown()


def _run(
    ray: Any,
    files: Sequence[InputFile],
    output: Path,
    options: Options,
    summary: Summary,
    actors: int,
    gpus: int,
    batch_size: int | None,
    progress: bool,
) -> None:
    by_key = {f.stem: f for f in files}
    items = [{"file": f.stem, "path": str(f.path), "fmt": f.fmt, "done": json.dumps(sorted(f.done))} for f in files]
    resources: dict[str, float] = {"num_gpus": 1} if gpus else {"num_cpus": 1}
    dataset = (
        ray.data.from_items(items, override_num_blocks=len(items))
        .flat_map(ReadShards(options.shard_size), num_cpus=READ_CPUS)
        .map_batches(
            Annotator,
            fn_constructor_kwargs={
                "model": options.model,
                "batch_size": batch_size,
                "labels": list(options.labels) if options.labels is not None else None,
            },
            batch_size=batch_size or 16,
            concurrency=actors,
            **resources,
        )
    )
    writer = ShardWriter(output, options, summary)
    waiting: dict[tuple[str, int], dict[int, str]] = {}
    started = time.perf_counter()
    with progress_bar(unit="doc", enabled=progress) as bar:
        task = bar.add_task("annotate", total=sum(f.pending_documents for f in files), info=f"{actors} workers")
        try:
            for row in dataset.iter_rows():
                if row["report"]:
                    counts = json.loads(row["report"])
                    summary.report.merge(Report(_counter(counts["warnings"]), _counter(counts["losses"])))
                key = (str(row["file"]), int(row["shard"]))
                shard = waiting.setdefault(key, {})
                shard[int(row["index"])] = str(row["record"])
                if len(shard) == int(row["size"]):
                    docs = [from_record(json.loads(shard[i])) for i in range(len(shard))]
                    writer.write(by_key[key[0]], key[1], docs)
                    del waiting[key]
                    bar.advance(task, len(docs))
        except ray.exceptions.RayTaskError as err:
            raise BionerError(_first_bioner_error(err)) from None
    summary.seconds = time.perf_counter() - started
    if waiting:
        raise BionerError(f"Ray returned {len(waiting)} incomplete shards; rerun the same command to finish them")


def _counter(counts: dict[str, int]) -> Any:
    from collections import Counter

    return Counter(counts)


def _first_bioner_error(err: BaseException) -> str:
    """The one-line message of the BionerError a Ray task raised (a bad input file), else Ray's first line."""
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, BionerError):
            return str(cause)
        cause = getattr(cause, "cause", None) or cause.__cause__
    text = str(err)
    for line in text.splitlines():
        if "BionerError" in line or "InputError" in line:
            return line.split(": ", 1)[-1]
    return text.splitlines()[0] if text else type(err).__name__
