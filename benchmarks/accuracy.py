"""Accuracy of bioner's encoder against the plain transformers recipe, corpus by corpus.

For each corpus: ``bioner train`` with the quickstart hyperparameters (MiniLM, windows of
128 sub-tokens, lr 1e-4, batch 16) and ``bioner test --json`` on the test split; then
``benchmarks/run_ner_baseline.py`` (the run_ner way, with its own defaults: lr 5e-5, batch 8,
truncation at 128 sub-tokens) on the same backbone, epochs and seed. Both are scored by
bioner's scorer. Finished steps are skipped, so an interrupted benchmark resumes.

    python benchmarks/accuracy.py --corpora ncbi-disease bc5cdr --epochs 3 --seed 42
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIONER = [sys.executable, "-m", "bioner"]


def run(command: list[str], log: Path) -> float:
    """Run a step, appending its output to ``log``; its wall time in seconds."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    return time.perf_counter() - started


def bioner_side(corpus: str, epochs: int, seed: int, runs: Path, log: Path) -> dict[str, Any]:
    model = runs / f"bioner-{corpus}-e{epochs}-s{seed}"
    result_file = model / "test.json"
    if not result_file.exists():
        settings = [f"data.corpus={corpus}", f"train.epochs={epochs}", f"train.seed={seed}"]
        settings += ["train.max_minutes=0", "train.patience=0"]
        resume = ["--resume"] if (model / "checkpoint.safetensors").exists() else []
        overrides = [part for s in settings for part in ("--set", s)]
        seconds = run([*BIONER, "train", "configs/quickstart.toml", "--output", str(model), *overrides, *resume], log)
        (model / "train_seconds.txt").write_text(f"{seconds:.1f}\n")
        test = subprocess.run(
            [*BIONER, "test", str(model), "--corpus", corpus, "--split", "test", "--json", "-q"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result_file.write_text(test.stdout)
    report = json.loads(result_file.read_text())
    return {
        "strict_f1": report["overall"]["strict"]["f1"],
        "partial_f1": report["overall"]["partial"]["f1"],
        "by_length_strict_f1": {b: s["strict"]["f1"] for b, s in report["by_length"].items()},
        "train_seconds": float((model / "train_seconds.txt").read_text()),
    }


def baseline_side(corpus: str, epochs: int, seed: int, runs: Path, log: Path) -> dict[str, Any]:
    folder = runs / f"run_ner-{corpus}-e{epochs}-s{seed}"
    result_file = folder / "result.json"
    if not result_file.exists():
        script = str(ROOT / "benchmarks" / "run_ner_baseline.py")
        run(
            [
                sys.executable,
                script,
                "--corpus",
                corpus,
                "--epochs",
                str(epochs),
                "--seed",
                str(seed),
                "--output",
                str(folder),
            ],
            log,
        )
    result = json.loads(result_file.read_text())
    report = result["report"]
    return {
        "strict_f1": result["strict_f1"],
        "partial_f1": result["partial_f1"],
        "by_length_strict_f1": {b: s["strict"]["f1"] for b, s in report["by_length"].items()},
        "train_seconds": result["train_seconds"],
        "truncated_sentences": result["truncated_sentences"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpora", nargs="+", default=["ncbi-disease", "bc5cdr", "bc2gm", "jnlpba", "linnaeus", "biored"]
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "benchmarks")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "accuracy.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.runs.mkdir(parents=True, exist_ok=True)
    log = args.runs / "accuracy.log"
    results = json.loads(args.output.read_text()) if args.output.exists() else {"corpora": {}}
    for corpus in args.corpora:
        results["corpora"][corpus] = {
            "bioner": bioner_side(corpus, args.epochs, args.seed, args.runs, log),
            "run_ner": baseline_side(corpus, args.epochs, args.seed, args.runs, log),
        }
        results.update(
            date=date.today().isoformat(),
            machine=f"{platform.machine()}, {os.cpu_count()} cores, CPU only",
            command=(
                f"python benchmarks/accuracy.py --corpora {' '.join(args.corpora)} "
                f"--epochs {args.epochs} --seed {args.seed}"
            ),
            epochs=args.epochs,
            seed=args.seed,
        )
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n")
        row = results["corpora"][corpus]
        print(
            f"{corpus}: bioner strict {row['bioner']['strict_f1']:.4f} partial {row['bioner']['partial_f1']:.4f} | "
            f"run_ner strict {row['run_ner']['strict_f1']:.4f} partial {row['run_ner']['partial_f1']:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
