"""DBR ablation (VANER Table 3): the same run with ``dbr`` off, random and retrieved, on one corpus.

Each setting trains a fresh tagger from one config (``--config``, or the defaults with
``--set`` overrides) with only ``dbr.mode`` changed, scores the best model on the test
split with bioner's strict scorer, and writes ``dbr_ablation.json`` (per-epoch dev scores,
test scores, dense-sample counts, timings) and ``dbr_ablation.png`` (dev F1 per epoch of
the three settings in one plot) into ``--output``.

    python benchmarks/dbr_ablation.py --corpus ncbi-disease --output runs/dbr-ncbi \\
        --set model.backbone=dmis-lab/biobert-base-cased-v1.2 --set train.epochs=10 --set dbr.retriever=embedding
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

MODES = ("off", "random", "retrieved")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bioner.errors import Report
    from bioner.evaluation.evaluate import evaluate
    from bioner.knowledge.dense import DENSE_ADDED
    from bioner.training.config import load_config
    from bioner.training.data import load_splits
    from bioner.training.recipe import fit

    overrides = [*(args.set or []), *([f"data.corpus={args.corpus}"] if args.corpus else [])]
    base = load_config(args.config, overrides)
    splits = load_splits(base.data, ("train", "dev", "test"), Report())
    labels = list(base.model.labels) or sorted({e.label for d in splits["train"] for e in d.entities})
    saved = args.output / "dbr_ablation.json"
    results: dict[str, Any] = {"corpus": base.data.corpus, "backend": base.model.backend, "runs": {}}
    if saved.exists():  # resume: settings already measured are kept
        results = json.loads(saved.read_text())
    for mode in args.modes:
        if mode in results["runs"]:
            continue
        config = load_config(args.config, [*overrides, f"dbr.mode={mode}"])
        output = args.output / mode
        started = time.perf_counter()
        report = Report()
        tagger, result = fit(splits["train"], splits["dev"], config, output, progress=args.progress, report=report)
        n_dense = sum(n for what, n in report.warnings.items() if what.startswith(DENSE_ADDED))
        test = evaluate(splits["test"], tagger.predict(splits["test"]), labels=labels).overall["strict"]
        results["runs"][mode] = {
            "dense_samples": n_dense,
            "epochs": result.epochs,
            "best_epoch": result.best_epoch,
            "best_dev": result.best_dev,
            "test": {"precision": test.precision, "recall": test.recall, "f1": test.f1},
            "seconds": round(time.perf_counter() - started, 1),
            "config": config.to_dict(),
        }
        saved.write_text(json.dumps(results, indent=2) + "\n")
        print(f"dbr={mode}: dense samples {n_dense}, test strict F1 {test.f1:.4f}", flush=True)
    return results


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, run_ in results["runs"].items():
        epochs = [e["epoch"] for e in run_["epochs"] if e["dev_f1"] is not None]
        f1 = [e["dev_f1"] for e in run_["epochs"] if e["dev_f1"] is not None]
        ax.plot(epochs, f1, marker="o", label=f"dbr={mode} (test F1 {run_['test']['f1']:.3f})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("dev strict F1")
    ax.set_title(f"DBR ablation: {results['backend']} on {results['corpus'] or 'files'}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None, help="training config (TOML); default: the defaults")
    parser.add_argument("--corpus", default=None, help="named corpus (sets data.corpus)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override (repeatable)")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    results = run(args)
    (args.output / "dbr_ablation.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.output / "dbr_ablation.png")
    print(f"wrote {args.output / 'dbr_ablation.json'} and {args.output / 'dbr_ablation.png'}")


if __name__ == "__main__":
    main()
