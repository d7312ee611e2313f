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
import sys
from datetime import date
from pathlib import Path
from typing import Any

from common import ROOT, machine, run, summary, test_once, train_once


def bioner_side(corpus: str, epochs: int, seed: int, runs: Path, log: Path) -> dict[str, Any]:
    model = runs / f"bioner-{corpus}-e{epochs}-s{seed}"
    settings = [f"data.corpus={corpus}", f"train.epochs={epochs}", f"train.seed={seed}"]
    train_once("configs/quickstart.toml", model, [*settings, "train.max_minutes=0", "train.patience=0"], log)
    return summary(test_once(model, corpus), model)


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
            machine=machine(),
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
