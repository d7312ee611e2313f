"""The span backend (GLiNER) against the encoder, zero-shot labels, and long documents (issue 13).

Three comparisons, each on a fixed, stated schedule (the same for both systems) so that the
numbers do not depend on the load of the machine:

- ``table2``: the GenoVarDis Table 2 analogue on tmVar3 and PharmaCoNER: ``configs/span/<corpus>.toml``
  against ``configs/encoder/...`` (same MiniLM backbone, same documents, epochs, batch size,
  learning rate and seed), scored by ``bioner test --json``: strict and partial P/R/F1, per
  label, by length, seconds per epoch and test documents per second.
- ``zeroshot``: the span model trained on BC5CDR tags NCBI-disease ``Disease`` (a seen type, a new
  corpus) and S800 ``Species`` (a type it never saw), labels given at prediction time.
- ``truncation``: 20 BC5CDR test abstracts joined into one document; the gold entities of its last
  fifth found by bioner's windows and by plain ``GLiNER.predict_entities`` on the same model.

    nice -n 10 python benchmarks/span_vs_encoder.py --train-limit 120 --epochs 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

from common import BIONER, ROOT, machine, train_once

TMVAR_LABELS = sorted(["DNAMutation", "SNP", "DNAAllele", "OtherMutation", "Gene", "Disease"])
"""Sorted: an encoder trained on unsorted ``model.labels`` fails to load (its tags.json and config.toml disagree)."""
CORPORA = {
    "tmvar3": {"encoder": "configs/encoder/bc5cdr.toml", "labels": TMVAR_LABELS, "scale": 1},
    "pharmaconer": {"encoder": "configs/encoder/pharmaconer.toml", "labels": [], "scale": 10},
}
"""``scale``: PharmaCoNER's documents are sentences (26 words on average), tmVar3's abstracts (about 250),
so PharmaCoNER takes ten times the document limits for about the same number of words."""


def test_json(model: Path, corpus: str, limit: int | None, log: Path) -> dict[str, Any]:
    """``bioner test --json`` on the first ``limit`` test documents, kept as ``test.json``."""
    result = model / "test.json"
    if not result.exists():
        limits = ["--limit", str(limit)] if limit else []
        command = [*BIONER, "test", str(model), "--corpus", corpus, "--split", "test", "--json", "-q", *limits]
        with log.open("a") as out:
            out.write(f"$ {' '.join(command)}\n")
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
        result.write_text(done.stdout)
    report: dict[str, Any] = json.loads(result.read_text())
    return report


def row(report: dict[str, Any], model: Path) -> dict[str, Any]:
    """What the tables show of one tested model."""
    history = json.loads((model / "history.json").read_text())
    epochs = history["epochs"]

    def prf(scores: dict[str, Any]) -> dict[str, float]:
        return {k: scores[k] for k in ("precision", "recall", "f1")}

    return {
        "strict": prf(report["overall"]["strict"]),
        "partial": prf(report["overall"]["partial"]),
        "per_label": {
            label: {"strict": prf(s["strict"]), "partial": prf(s["partial"]), "support": s["strict"].get("possible")}
            for label, s in report["per_label"].items()
        },
        "by_length_strict_f1": {b: s["strict"]["f1"] for b, s in report["by_length"].items()},
        "epoch_seconds": [e["seconds"] for e in epochs],
        "test_docs_per_s": report.get("timing", {}).get("docs_per_s"),
        "test_documents": report["documents"],
    }


def table2(args: argparse.Namespace, runs: Path, log: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for corpus in args.corpora:
        spec = CORPORA[corpus]
        common = [
            f"data.limit={args.train_limit * spec['scale']}",
            f"train.epochs={args.epochs}",
            "train.patience=0",
            f"train.batch_size={args.batch_size}",
            f"train.learning_rate={args.learning_rate}",
            "train.seed=13",
        ]
        encoder = [f"data.corpus={corpus}", *([f"model.labels={json.dumps(spec['labels'])}"] if spec["labels"] else [])]
        results[corpus] = {}
        for system, config, extra in (
            ("span", f"configs/span/{corpus}.toml", args.span_set),
            ("encoder", spec["encoder"], encoder),
        ):
            model = runs / f"{system}-{corpus}"
            train_once(config, model, [*common, *extra], log)
            limit = args.test_limit * spec["scale"] if args.test_limit else None
            results[corpus][system] = row(test_json(model, corpus, limit, log), model)
    return results


def zeroshot(args: argparse.Namespace, runs: Path, log: Path) -> dict[str, Any]:
    """The BC5CDR span model on NCBI-disease (Disease) and S800 (Species), labels given at prediction time."""
    from bioner import evaluate, load
    from bioner.corpora import load_corpus

    model = runs / "span-bc5cdr"
    overrides = [
        f"data.limit={args.train_limit}",
        f"train.epochs={args.epochs}",
        "train.patience=0",
        f"train.batch_size={args.batch_size}",
        f"train.learning_rate={args.learning_rate}",
    ]
    train_once("configs/span/bc5cdr.toml", model, [*overrides, *args.span_set], log)
    tagger = load(model)
    out: dict[str, Any] = {
        "trained_on": "bc5cdr",
        "bc5cdr_test": row(test_json(model, "bc5cdr", args.test_limit, log), model),
    }
    for corpus, label in (("ncbi-disease", "Disease"), ("s800", "Species")):
        gold = load_corpus(corpus, splits=["test"]).splits["test"][: args.test_limit]
        started = time.perf_counter()
        predicted = tagger(gold, labels=[label])
        seconds = time.perf_counter() - started
        report = evaluate(gold, predicted, labels=[label]).to_dict()
        out[corpus] = {
            "label": label,
            "documents": len(gold),
            "strict": report["overall"]["strict"],
            "partial": report["overall"]["partial"],
            "seconds": round(seconds, 1),
        }
    return out


def truncation(
    args: argparse.Namespace, runs: Path, corpus: str = "bc5cdr", count: int = 20, threshold: float | None = None
) -> dict[str, Any]:
    """Gold entities in the last fifth of ``count`` joined test documents: bioner's windows against
    ``predict_entities`` on the same model (``span-<corpus>``) at the same threshold."""
    import dataclasses

    from bioner import load
    from bioner.corpora import load_corpus
    from bioner.errors import Report
    from bioner.types import Document, Entity

    tagger = load(runs / f"span-{corpus}")
    model = tagger.model
    if threshold is not None:  # a short schedule can leave every score under 0.5
        model.settings = dataclasses.replace(model.settings, threshold=threshold)  # type: ignore[attr-defined]
    abstracts = load_corpus(corpus, splits=["test"]).splits["test"][:count]
    text, entities = "", []
    for doc in abstracts:
        offset = len(text)
        entities += [e.shifted(offset) for e in doc.entities]
        text += doc.text + "\n\n"
    long_doc = Document(f"joined-{count}", text.rstrip(), tuple(e for e in entities if e.end <= len(text.rstrip())))
    tail = int(len(long_doc.text) * 0.8)
    gold = {(e.start, e.end, e.label) for e in long_doc.entities if e.start >= tail}
    report = Report()
    ours = model.predict([long_doc], report=report)[0].entities  # type: ignore[attr-defined]
    prompts = model.settings.prompt_map()  # type: ignore[attr-defined]
    label_of = {prompts.get(label, label): label for label in model.labels}
    plain = model.gliner.predict_entities(  # type: ignore[attr-defined]
        long_doc.text,
        list(label_of),
        threshold=model.settings.threshold,
        flat_ner=True,  # type: ignore[attr-defined]
    )
    theirs = [Entity(p["start"], p["end"], label_of[p["label"]], long_doc.text[p["start"] : p["end"]]) for p in plain]

    def found(predicted: list[Entity] | tuple[Entity, ...]) -> dict[str, int]:
        spans = {(e.start, e.end, e.label) for e in predicted}
        return {
            "gold_found": len(gold & spans),
            "predicted_in_last_fifth": sum(e.start >= tail for e in predicted),
            "predicted": len(predicted),
        }

    words = len(long_doc.text.split())
    return {
        "corpus": corpus,
        "documents_joined": count,
        "characters": len(long_doc.text),
        "whitespace_words": words,
        "max_len": model.settings.max_len,  # type: ignore[attr-defined]
        "threshold": model.settings.threshold,  # type: ignore[attr-defined]
        "gold_in_last_fifth": len(gold),
        "bioner": {**found(ours), "report": report.lines()},
        "plain_predict_entities": found(theirs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["table2", "zeroshot", "truncation"])
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA))
    parser.add_argument("--train-limit", type=int, default=120, help="documents of each split used for training")
    parser.add_argument("--test-limit", type=int, default=None, help="test documents scored")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--span-set", nargs="*", default=[], help="extra --set overrides of the span runs")
    parser.add_argument(
        "--truncation-threshold", type=float, default=None, help="span threshold of the truncation test"
    )
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "span-bench")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "span_vs_encoder.json")
    args = parser.parse_args()
    args.runs.mkdir(parents=True, exist_ok=True)
    log = args.runs / "log.txt"
    results: dict[str, Any] = json.loads(args.output.read_text()) if args.output.exists() else {}
    results.update(
        {
            "date": date.today().isoformat(),
            "machine": machine(),
            "settings": vars(args) | {"runs": str(args.runs), "output": str(args.output)},
        }
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for part in args.parts:
        if part == "table2":
            results["table2"] = table2(args, args.runs, log)
        elif part == "zeroshot":
            results["zeroshot"] = zeroshot(args, args.runs, log)
        elif part == "truncation":
            results["truncation"] = truncation(args, args.runs, threshold=args.truncation_threshold)
            results["truncation_pharmaconer"] = truncation(args, args.runs, "pharmaconer", 400)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"{part} done; wrote {args.output}", flush=True)


if __name__ == "__main__":
    main()
