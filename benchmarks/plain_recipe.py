"""bioner's quickstart recipe against the plain run_ner recipe, scored from both sides' saved test predictions.

The bioner side is a ``bioner benchmark`` output (``RUNS/quickstart/CORPUS/seed-S/predictions-test.jsonl``),
the run_ner side ``benchmarks/run_ner_baseline.py``'s (``RUNS/run_ner/CORPUS/seed-S/predictions-test.jsonl``).
Both are scored by bioner's scorer against the corpus's test split, with the paired bootstrap and
approximate-randomization p-value of the strict F1 difference (:func:`bioner.evaluation.significance.compare`).
A corpus whose run_ner side has no predictions yet keeps its bioner score and says so.

    bioner benchmark configs/benchmarks/accuracy-encoder.toml --output runs/benchmarks/accuracy-plain
    python benchmarks/run_ner_baseline.py --corpus tmvar3 --epochs 3 --seed 42 \
        --output runs/benchmarks/accuracy-plain/run_ner/tmvar3/seed-42
    python benchmarks/plain_recipe.py --runs runs/benchmarks/accuracy-plain --corpora tmvar3
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from common import ROOT, machine

from bioner.corpora import load_corpus
from bioner.errors import BionerError
from bioner.evaluation.evaluate import evaluate
from bioner.evaluation.significance import compare
from bioner.formats import read_documents


def score_corpus(runs: Path, corpus: str, seed: int, samples: int) -> dict[str, Any]:
    """Both sides' strict F1 on ``corpus``'s test split and bioner's difference from run_ner."""
    gold = load_corpus(corpus).splits["test"]
    bioner_file = runs / "quickstart" / corpus / f"seed-{seed}" / "predictions-test.jsonl"
    run_ner_file = runs / "run_ner" / corpus / f"seed-{seed}" / "predictions-test.jsonl"
    if not bioner_file.is_file():
        raise BionerError(f"{bioner_file}: no bioner predictions (run bioner benchmark first)")
    ours = list(read_documents(bioner_file))
    row: dict[str, Any] = {"bioner_strict_f1": evaluate(gold, ours).overall["strict"].f1}
    if not run_ner_file.is_file():
        row["run_ner"] = "not run: no predictions-test.jsonl in its cell"
        return row
    theirs = list(read_documents(run_ner_file))
    row["run_ner_strict_f1"] = evaluate(gold, theirs).overall["strict"].f1
    result = compare(gold, ours, theirs, "strict", n=samples)
    row["delta"] = {"f1": result.delta, "low": result.ci_low, "high": result.ci_high, "p": result.p_value}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "benchmarks" / "accuracy-plain")
    parser.add_argument("--corpora", nargs="+", default=["chemprot", "pharmaconer", "s800", "tmvar3", "jnlpba"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "accuracy_plain.json")
    args = parser.parse_args()
    try:
        corpora = {corpus: score_corpus(args.runs, corpus, args.seed, args.samples) for corpus in args.corpora}
    except BionerError as err:
        raise SystemExit(f"error: {err}") from None
    for corpus, row in corpora.items():
        print(corpus, json.dumps(row), flush=True)
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": f"python benchmarks/plain_recipe.py --corpora {' '.join(args.corpora)} --seed {args.seed}",
        "corpora": corpora,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
