"""The LLM tagger (VANER) against the encoder, on equal data: one corpus, causal mask kept, a mixture.

On the test splits of ``--corpora`` (default NCBI-disease and BC5CDR), five systems are trained
with ``bioner train`` and scored with ``bioner test`` (strict and partial F1, overall and by gold
entity length), all from the shipped configs with the same overrides:

- ``llm``: ``configs/llm-tagger/<corpus>.toml`` (Gemma 3 270M, bidirectional, LoRA);
- ``llm-causal``: the same with ``model.bidirectional=false`` (the mask ablation);
- ``llm-mixture``: ``configs/llm-tagger/mixture.toml`` over ``--mixture``, one model tested on each corpus;
- ``encoder`` and ``encoder-mixture``: ``configs/encoder/<corpus>.toml`` and ``configs/encoder/mixture.toml``
  (MiniLM) on the same data.

Finished steps are kept (``train_seconds.txt``, ``test.json`` in each model folder) and an interrupted
training resumes from its checkpoint, so the benchmark can be run in pieces (``--systems``), e.g. one
call per system on a lent GPU. ``--set`` applies to every run (reduced budgets: ``train.epochs=3``,
``train.max_minutes=8``); say so when reporting.

    python benchmarks/llm_vs_encoder.py --set train.epochs=3 --systems llm encoder
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from common import ROOT, machine, summary, test_once, train_once

SYSTEMS = ("llm", "llm-causal", "llm-mixture", "encoder", "encoder-mixture")


def plan(system: str, corpus: str, mixture: list[str]) -> tuple[str, list[str], str]:
    """Config, extra overrides and model folder name of ``system`` as tested on ``corpus``."""
    mixed = [f"data.mixture={json.dumps(mixture)}", f"data.weights={json.dumps([1.0] * len(mixture))}"]
    if system == "llm":
        return f"configs/llm-tagger/{corpus}.toml", [], f"llm-{corpus}"
    if system == "llm-causal":
        return f"configs/llm-tagger/{corpus}.toml", ["model.bidirectional=false"], f"llm-causal-{corpus}"
    if system == "llm-mixture":
        return "configs/llm-tagger/mixture.toml", mixed, "llm-mixture"
    if system == "encoder":
        return f"configs/encoder/{corpus}.toml", [], f"encoder-{corpus}"
    return "configs/encoder/mixture.toml", mixed, "encoder-mixture"


def table(results: dict[str, Any]) -> str:
    """Markdown: one row per corpus and system, strict/partial F1 and strict F1 by gold length."""
    lines = [
        "| corpus | system | strict F1 | partial F1 | strict F1 by length 1 / 2 / 3+ | training time |",
        "|---|---|--:|--:|---|--:|",
    ]
    for corpus, systems in results["corpora"].items():
        for system, row in systems.items():
            lengths = " / ".join(f"{row['by_length_strict_f1'].get(b, 0.0):.3f}" for b in ("1", "2", "3+"))
            minutes = row["train_seconds"] / 60
            lines.append(
                f"| {corpus} | {system} | {row['strict_f1']:.3f} | {row['partial_f1']:.3f} | {lengths} "
                f"| {minutes:.1f} min |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", nargs="+", default=["ncbi-disease", "bc5cdr"])
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument(
        "--mixture",
        nargs="+",
        default=["ncbi-disease", "bc5cdr", "bc2gm", "jnlpba", "linnaeus", "s800"],
        help="corpora of the mixture runs (must include --corpora)",
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override for every run")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "llm-vs-encoder")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "llm_vs_encoder.json")
    args = parser.parse_args()
    if missing := set(args.corpora) - set(args.mixture):
        parser.error(f"--mixture must include every corpus tested: {', '.join(sorted(missing))}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.runs.mkdir(parents=True, exist_ok=True)
    log = args.runs / "llm_vs_encoder.log"
    results = json.loads(args.output.read_text()) if args.output.exists() else {"corpora": {}, "runs": {}}
    for system in args.systems:
        for corpus in args.corpora:
            config, extra, name = plan(system, corpus, args.mixture)
            model = args.runs / name
            train_once(config, model, [*extra, *args.set], log)
            row = summary(test_once(model, corpus, f"test-{corpus}"), model)
            results["corpora"].setdefault(corpus, {})[system] = row
            results["runs"][name] = {"config": config, "overrides": [*extra, *args.set], "machine": machine()}
            results.update(date=date.today().isoformat(), mixture=args.mixture)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(results, indent=2) + "\n")
            print(f"{corpus} {system}: strict {row['strict_f1']:.4f} partial {row['partial_f1']:.4f}", flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
