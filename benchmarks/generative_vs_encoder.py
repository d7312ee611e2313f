"""BIO generation (the LLMs-vs-encoders method) against the MiniLM encoder and the llm-tagger, on equal data.

For each corpus, the first ``--train`` training sentences and the first ``--test`` test
sentences (sentence documents cut from the corpus's documents) are used; every system is
trained with the same schedule (``--steps`` optimizer steps of ``--batch`` sentences, constant
learning rate, one dev pass on ``--dev`` sentences) through the shared recipe:

- ``encoder``: MiniLM (``model.backend=encoder``);
- ``llm-tagger``: Gemma 3 270M, bidirectional, LoRA, B/I/O head;
- ``generative-text``: Gemma 3 270M, LoRA SFT, one plain-text tag per word;
- ``generative-special``: the same with one added token per tag.

Both generative models are tested constrained and unconstrained. Reported: strict P/R/F1
overall and by gold entity length 1 / 2 / 3+, seconds per test sentence (one run, so only
ratios mean anything on a shared machine), decode steps per sentence and the share of
unconstrained answers that were invalid or misaligned. Results are written after every
system, so an interrupted run keeps what finished.

    nice -n 10 python benchmarks/generative_vs_encoder.py --corpora bc5cdr biored
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from common import ROOT, machine

from bioner.corpora import load_corpus
from bioner.corpora.naming import with_corpus
from bioner.errors import Report
from bioner.evaluation.evaluate import evaluate
from bioner.models.generative import INVALID_TAGS, MISALIGNED, GenerativeTagger
from bioner.text import document_sentences
from bioner.training.config import load_config
from bioner.training.recipe import fit
from bioner.types import Document, Entity

SYSTEMS = ("encoder", "llm-tagger", "generative-text", "generative-special")


def sentences(docs: list[Document], limit: int, corpus: str) -> list[Document]:
    """The first ``limit`` sentences of ``docs`` as documents of their own (entities inside them kept)."""
    out: list[Document] = []
    for doc in docs:
        for i, (start, end) in enumerate(document_sentences(doc)):
            if len(out) == limit:
                return out
            text = doc.text[start:end]
            inside = [
                Entity(e.start - start, e.end - start, e.label, e.text)
                for e in doc.entities
                if start <= e.start and e.end <= end
            ]
            out.append(with_corpus(Document(f"{doc.id}:{i}", text, tuple(inside)), corpus))
    return out


def overrides(system: str, corpus: str, args: argparse.Namespace) -> list[str]:
    """The config of ``system``: its backend, then the schedule every system shares."""
    model = {
        "encoder": ["model.backend=encoder"],
        "llm-tagger": ["model.backend=llm-tagger", "model.max_length=256", "model.window_overlap=32"],
        "generative-text": ["model.backend=generative", "model.tag_tokens=text", f"model.max_words={args.max_words}"],
        "generative-special": [
            "model.backend=generative",
            "model.tag_tokens=special",
            f"model.max_words={args.max_words}",
        ],
    }[system]
    lr = 5e-5 if system == "encoder" else 2e-4
    return [
        *model,
        f"data.corpus={corpus}",
        "train.epochs=1",
        f"train.max_steps={args.steps}",
        f"train.batch_size={args.batch}",
        f"train.learning_rate={lr if args.lr is None else args.lr}",
        "train.schedule=constant",
        "train.warmup_ratio=0",
        "train.patience=0",
        "train.device=cpu",
    ]


def scores(gold: list[Document], predicted: list[Document], seconds: float) -> dict[str, Any]:
    report = evaluate(gold, predicted)
    strict = report.overall["strict"]
    return {
        "strict": {"p": strict.precision, "r": strict.recall, "f1": strict.f1},
        "by_length_strict": {
            b: {"p": s["strict"].precision, "r": s["strict"].recall, "f1": s["strict"].f1}
            for b, s in report.by_length.items()
        },
        "seconds_per_sentence": seconds / len(gold),
    }


def run_system(system: str, corpus: str, data: dict[str, list[Document]], args: argparse.Namespace) -> dict[str, Any]:
    """Train one system, test it (both decoding modes for a generative one)."""
    output = args.runs / f"{system}-{corpus}"
    config = load_config(None, overrides(system, corpus, args))
    started = time.perf_counter()
    model, _ = fit(data["train"], data["dev"], config, output)
    row: dict[str, Any] = {"train_seconds": time.perf_counter() - started}
    modes = [True, False] if isinstance(model, GenerativeTagger) else [True]
    for constrained in modes:
        if isinstance(model, GenerativeTagger):
            model.settings.constrained = constrained
        report = Report()
        started = time.perf_counter()
        predicted = model.predict(data["test"], report=report)
        seconds = time.perf_counter() - started
        result = scores(data["test"], predicted, seconds)
        if isinstance(model, GenerativeTagger):
            stats = model.stats
            result.update(
                answers=stats.answers,
                decode_steps_per_sentence=stats.steps / max(stats.answers, 1),
                invalid_rate=stats.invalid / max(stats.answers, 1),
                misaligned_rate=stats.misaligned / max(stats.answers, 1),
                report=[line for line in report.lines() if INVALID_TAGS in line or MISALIGNED in line],
            )
        row["constrained" if constrained else "unconstrained"] = result
    return row


def answer_tokens(corpus: str, test: list[Document], max_words: int) -> dict[str, Any]:
    """Tokens of the gold answers of ``test`` with text and with special tags (Gemma's tokenizer, no model).

    A constrained decoder takes exactly one step per answer token, so these are the decode steps
    per sentence of a model that answers right; the tag list is every tag of the corpus.
    """
    from transformers import AutoTokenizer

    from bioner.backbones import DEFAULT_DECODER, resolve_backbone
    from bioner.models.generative import GenerativeSettings, TagCodes, special_token
    from bioner.schemes import scheme_of

    labels = sorted({e.label for d in test for e in d.entities})
    out: dict[str, Any] = {"labels": labels}
    for kind in ("text", "special"):
        tokenizer = AutoTokenizer.from_pretrained(resolve_backbone(DEFAULT_DECODER))
        if kind == "special":
            tokenizer.add_tokens([special_token(t) for t in scheme_of("IOB2").tag_list(labels)], special_tokens=True)
        model = GenerativeTagger(GenerativeSettings(labels=labels, tag_tokens=kind, max_words=max_words))
        model.tokenizer = tokenizer
        codes = TagCodes.build(tokenizer, labels, "IOB2", special=kind == "special")
        parts = model.parts(test, Report(), gold=True)
        steps = [len(codes.answer(p.tags)) for p in parts]
        out[kind] = {
            "sentences": len(parts),
            "steps_per_sentence": sum(steps) / len(parts),
            "tokens_per_tag": {t: len(c) for t, c in zip(codes.tags, codes.codes, strict=True)},
        }
    return out


def table(results: dict[str, Any]) -> str:
    """Markdown: one row per corpus, system and decoding mode."""
    lines = [
        "| corpus | system | decoding | strict P / R / F1 | strict F1 by length 1 / 2 / 3+ | s / sentence "
        "| decode steps / sentence | invalid / misaligned answers |",
        "|---|---|---|---|---|--:|--:|---|",
    ]
    for corpus, systems in results["corpora"].items():
        for system, row in systems.items():
            if system.startswith("_"):
                continue
            for mode in ("constrained", "unconstrained"):
                if mode not in row:
                    continue
                r = row[mode]
                prf = " / ".join(f"{r['strict'][k]:.3f}" for k in ("p", "r", "f1"))
                lengths = " / ".join(f"{r['by_length_strict'].get(b, {'f1': 0.0})['f1']:.3f}" for b in ("1", "2", "3+"))
                steps = f"{r['decode_steps_per_sentence']:.1f}" if "answers" in r else "-"
                bad = f"{r['invalid_rate']:.1%} / {r['misaligned_rate']:.1%}" if "answers" in r else "-"
                decoding = mode if "answers" in r else "-"
                lines.append(
                    f"| {corpus} | {system} | {decoding} | {prf} | {lengths} | {r['seconds_per_sentence']:.3f} "
                    f"| {steps} | {bad} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", nargs="+", default=["bc5cdr", "biored", "jnlpba", "chemprot"])
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--train", type=int, default=160, help="training sentences per corpus")
    parser.add_argument("--dev", type=int, default=8, help="dev sentences (one scoring pass)")
    parser.add_argument("--test", type=int, default=200, help="test sentences per corpus")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=None, help="learning rate for all (default 5e-5 / 2e-4)")
    parser.add_argument("--max-words", type=int, default=48)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "generative-vs-encoder")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "generative_vs_encoder.json")
    parser.add_argument(
        "--answer-tokens", action="store_true", help="only count gold-answer tokens, text vs special tags (no model)"
    )
    parser.add_argument("--table", action="store_true", help="print the Markdown table of --output and stop")
    args = parser.parse_args()
    if args.answer_tokens:
        found = {}
        for corpus in args.corpora:
            loaded = load_corpus(corpus, ["test"])
            test = sentences(list(loaded.splits["test"]), args.test, corpus)
            found[corpus] = answer_tokens(corpus, test, args.max_words)
            print(corpus, json.dumps({k: v for k, v in found[corpus].items()}), flush=True)
        target = args.output.with_name(args.output.stem + "_answer_tokens.json")
        target.write_text(json.dumps(found, indent=2) + "\n")
        return
    if args.table:
        print(table(json.loads(args.output.read_text())))
        return
    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "corpora": {},
    }
    if args.output.exists():
        results["corpora"] = json.loads(args.output.read_text()).get("corpora", {})
    for corpus in args.corpora:
        loaded = load_corpus(corpus, ["train", "dev", "test"])
        data = {
            "train": sentences(list(loaded.splits["train"]), args.train, corpus),
            "dev": sentences(list(loaded.splits["dev"]), args.dev, corpus),
            "test": sentences(list(loaded.splits["test"]), args.test, corpus),
        }
        done = results["corpora"].setdefault(corpus, {})
        done["_sizes"] = {split: len(docs) for split, docs in data.items()}
        for system in args.systems:
            if system in done:
                continue
            print(f"{corpus} {system} ...", flush=True)
            done[system] = run_system(system, corpus, data, args)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(results, indent=2) + "\n")
            print(json.dumps(done[system]), flush=True)


if __name__ == "__main__":
    main()
