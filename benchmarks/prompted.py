"""Prompted extraction (issue 14): Gemma 3 270M zero- and few-shot on the GenoVarDis Table 2 test documents.

The same test documents as ``span_vs_encoder.py`` (the first ``--limit`` of each corpus's test
split), scored strict and partial, with the share of returned mentions aligned to the text and
seconds per document. Local generation is held to the answer's grammar unless ``--free``. Answers
are cached (``--cache``), so an interrupted run resumes.

    nice -n 10 python benchmarks/prompted.py --corpora tmvar3 pharmaconer --limit 40 400 --shots 0 5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bioner.corpora import load_corpus
from bioner.errors import Report
from bioner.evaluation.evaluate import evaluate
from bioner.models.prompted import PromptedSettings, PromptedTagger
from bioner.prompting.align import EXACT, LOOSE, UNALIGNED

LABELS = {
    "tmvar3": sorted(["DNAMutation", "SNP", "DNAAllele", "OtherMutation", "Gene", "Disease"]),
    "pharmaconer": ["NORMALIZABLES", "NO_NORMALIZABLES", "PROTEINAS", "UNCLEAR"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", nargs="+", default=["tmvar3", "pharmaconer"])
    parser.add_argument("--limit", nargs="+", type=int, default=[40, 400], help="test documents per corpus")
    parser.add_argument("--shots", nargs="+", type=int, default=[0, 5])
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--cache", default="runs/prompted-cache")
    parser.add_argument("--out", default="benchmarks/results/prompted.json")
    parser.add_argument(
        "--free", action="store_true", help="unconstrained local generation (default: held to the answer's grammar)"
    )
    args = parser.parse_args()
    results = []
    for corpus, limit in zip(args.corpora, args.limit, strict=True):
        test = load_corpus(corpus, ["test"])["test"][:limit]
        for shots in args.shots:
            settings = PromptedSettings(
                shots=shots,
                shots_corpus=corpus if shots else "",
                max_new_tokens=args.max_new_tokens,
                cache=args.cache,
                constrained=not args.free,
            )
            report = Report()
            started = time.perf_counter()
            predicted = PromptedTagger(settings).predict(test, labels=LABELS[corpus], report=report)
            seconds = time.perf_counter() - started
            scores = evaluate(test, predicted, labels=LABELS[corpus]).to_dict()
            returned = sum(report.warnings[k] for k in (EXACT, LOOSE, UNALIGNED))
            row = {
                "corpus": corpus,
                "shots": shots,
                "constrained": not args.free,
                "documents": len(test),
                "strict": scores["overall"]["strict"],
                "partial": scores["overall"]["partial"],
                "mentions_returned": returned,
                "aligned_share": (returned - report.warnings[UNALIGNED]) / returned if returned else None,
                "seconds_per_document": seconds / len(test),
                "report": report.lines(),
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
