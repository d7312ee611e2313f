"""Corpus annotation speed: ``annotate-corpus --engine ray`` (2 workers) and ``--engine local`` against
``bioner predict`` on the same BC4CHEMD abstracts in one run, plus a resume test.

The abstracts (the first ``--documents`` of BC4CHEMD train, entities dropped) are written as
JSONL files of ``--per-file`` documents for annotate-corpus and as one file for predict. Each
command runs once as a subprocess; its wall time (model load and Ray start included) gives
documents/s, reported as ratios to predict. The resume test SIGKILLs a local run after ``--kill-after``
shards (``BIONER_KILL_AFTER_SHARDS``), reruns the same command, and checks that every input
document is in the output exactly once and that the entities equal the uninterrupted run's.

    nice -n 10 python benchmarks/annotate_corpus.py --model runs/quickstart --documents 500 \\
        --output benchmarks/results/annotate_corpus.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from bioner.annotate.corpus import KILL_AFTER_ENV, read_shards
from bioner.corpora import load_corpus
from bioner.formats import read_documents, write_documents


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode not in (0, -9):
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - started, done.returncode


def spans(docs: list[Any]) -> dict[str, list[tuple[int, int, str]]]:
    return {d.id: [(e.start, e.end, e.label) for e in d.entities] for d in docs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--shard-size", type=int, default=50)
    parser.add_argument("--kill-after", type=int, default=3)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()

    docs = [replace(d, entities=()) for d in load_corpus("bc4chemd", ["train"]).splits["train"][: args.documents]]
    work = Path(tempfile.mkdtemp(prefix="annotate-corpus-bench-"))
    for start in range(0, len(docs), args.per_file):
        write_documents(docs[start : start + args.per_file], work / "input" / f"part{start // args.per_file:04d}.jsonl")
    write_documents(docs, work / "all.jsonl")
    bioner = [sys.executable, "-m", "bioner"]
    corpus = [*bioner, "annotate-corpus", str(args.model), str(work / "input")]
    shard = ["--shard-size", str(args.shard_size), "-q"]
    seconds: dict[str, float] = {}
    seconds["predict"], _ = timed(
        [*bioner, "predict", str(args.model), str(work / "all.jsonl"), str(work / "p.jsonl"), "-q"]
    )
    seconds["local"], _ = timed([*corpus, str(work / "local"), *shard])
    seconds["ray_2_workers"], _ = timed([*corpus, str(work / "ray"), "--engine", "ray", "--workers", "2", *shard])
    _, code = timed([*corpus, str(work / "resumed"), *shard], env={**os.environ, KILL_AFTER_ENV: str(args.kill_after)})
    shards_before = len(list((work / "resumed").glob("*.jsonl")))
    timed([*corpus, str(work / "resumed"), *shard])
    resumed = list(read_shards(work / "resumed"))
    counts = Counter(d.id for d in resumed)
    wanted = Counter(d.id for d in docs)
    local = list(read_shards(work / "local"))
    ray = list(read_shards(work / "ray"))
    predicted = list(read_documents(work / "p.jsonl", "jsonl"))
    result = {
        "date": date.today().isoformat(),
        "machine": platform.processor() or platform.machine(),
        "documents": len(docs),
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "docs_per_s": {k: round(len(docs) / v, 2) for k, v in seconds.items()},
        "ratio_to_predict": {k: round(seconds["predict"] / v, 2) for k, v in seconds.items()},
        "same_entities_as_predict": {"local": spans(local) == spans(predicted), "ray": spans(ray) == spans(predicted)},
        "resume": {
            "killed_with": code,
            "shards_before_kill": shards_before,
            "shards_after_rerun": len(list((work / "resumed").glob("*.jsonl"))),
            "documents_out": sum(counts.values()),
            "documents_in": sum(wanted.values()),
            "exactly_once": counts == wanted,
            "entities_equal_uninterrupted": spans(resumed) == spans(local),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
