"""Entity linking benchmark: accuracy@1/@5 on gold mentions against MEDIC, end-to-end mention + ID F1, timing.

Usage (nice -n 10): python benchmarks/linking.py INDEX [--model runs/quickstart] [--out results.json]

INDEX is built with
``bioner link index medic_06Jul2012.txt corpus:ncbi-disease corpus:bc5cdr -s train -s dev --labels Disease -o INDEX``.
alpha is fixed at 0.5 beforehand (not tuned on test). An index built with ``--no-dense`` (the
dense MiniLM vectors of MEDIC's 76k names take too long on a loaded machine) gives the sparse
rows only, and links end to end with sparse candidates (alpha 1).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bioner.corpora import load_corpus
from bioner.evaluation.ids import id_scores
from bioner.linking.evaluate import link_accuracy
from bioner.linking.index import load_index
from bioner.linking.linker import LinkConfig, Linker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("index")
    parser.add_argument("--model")
    parser.add_argument("--out", default="linking-results.json")
    args = parser.parse_args()
    began = time.perf_counter()
    index = load_index(args.index)
    results: dict[str, object] = {"index_load_s": time.perf_counter() - began}
    dense = index.embedding_model is not None
    candidate_kinds = [("sparse", 1.0)] + ([("dense", 0.0), ("combined", 0.5)] if dense else [])
    rows = []
    for corpus in ("ncbi-disease", "bc5cdr"):
        docs = load_corpus(corpus, splits=["test"])["test"]
        docs = [d.with_entities(e for e in d.entities if e.label == "Disease") for d in docs]
        for name, alpha in candidate_kinds:
            for abbreviations in (False, True):
                linker = Linker(index, LinkConfig(alpha=alpha, abbreviations=abbreviations))
                r = link_accuracy(linker, docs)
                row = {"corpus": corpus, "candidates": name, "abbreviations": abbreviations, **r.to_dict()}
                del row["per_label"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    results["accuracy"] = rows
    if args.model:
        import bioner

        tagger = bioner.load(args.model, link=False)
        docs = load_corpus("ncbi-disease", splits=["test"])["test"]
        began = time.perf_counter()
        predicted = tagger(docs)
        tag_s = time.perf_counter() - began
        linker = Linker(index, LinkConfig(alpha=0.5 if dense else 1.0))
        began = time.perf_counter()
        linked = linker.link(predicted)
        link_s = time.perf_counter() - began
        scores = id_scores(docs, linked)
        end = {"tag_s": tag_s, "link_s": link_s, **scores.to_dict()}
        del end["per_label"]
        results["end_to_end_ncbi_test"] = end
        print(json.dumps(end), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
