"""The plain transformers recipe for NER (the ``run_ner.py`` way), as a reference for bioner.

What it does, as the transformers example does: word tokens with IOB2 tags per sentence,
``AutoModelForTokenClassification``, labels on the first sub-token, ``Trainer`` with its
defaults (AdamW, linear decay), inputs truncated at ``--max-length`` sub-tokens, and seqeval
for its own dev scores. Words cut off by truncation get no prediction (they count as ``O``),
exactly what the recipe's users get. Test predictions are decoded to character spans and
scored by bioner's scorer, so both systems are judged by one protocol on the same word tokens.

    python benchmarks/run_ner_baseline.py --corpus ncbi-disease --epochs 3 --seed 42 --output runs/baseline-ncbi
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from seqeval.metrics import f1_score
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    EvalPrediction,
    Trainer,
    TrainingArguments,
    set_seed,
)

from bioner.backbones import resolve_backbone
from bioner.corpora import load_corpus
from bioner.errors import Report
from bioner.evaluation.evaluate import evaluate
from bioner.formats import write_documents
from bioner.types import Document
from bioner.views import TokenView, decode, sentence_views


def sentences(docs: Sequence[Document], report: Report) -> list[tuple[Document, TokenView]]:
    """Every sentence of every document as (document, IOB2 view over bioner's word tokens)."""
    return [(doc, view) for doc in docs for view in sentence_views(doc, "IOB2", report=report) if view.tokens]


class Encoded(torch.utils.data.Dataset[dict[str, Any]]):
    """Sentences tokenized the recipe's way: truncation at max_length, first-sub-token labels."""

    def __init__(
        self, items: list[tuple[Document, TokenView]], tokenizer: Any, tag_ids: dict[str, int], max_length: int
    ):
        self.features: list[dict[str, Any]] = []
        self.word_ids: list[list[int | None]] = []
        self.truncated = 0
        for doc, view in items:
            words = [doc.text[s:e] for s, e in view.tokens]
            enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
            word_ids = enc.word_ids()
            kept_words = {w for w in word_ids if w is not None}
            self.truncated += len(kept_words) < len(words)
            labels, previous = [], None
            for w in word_ids:
                labels.append(-100 if w is None or w == previous else tag_ids[view.tags[w]])
                previous = w
            self.features.append(
                {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels}
            )
            self.word_ids.append(word_ids)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.features[i]


def word_tags(logits: np.ndarray, word_ids: list[int | None], n_words: int, tags: list[str]) -> list[str]:
    """Tags per word from the first sub-token's argmax; words lost to truncation are ``O``."""
    out = ["O"] * n_words
    previous = None
    for position, w in enumerate(word_ids):
        if w is not None and w != previous:
            out[w] = tags[int(logits[position].argmax())]
        previous = w
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--backbone", default="all-MiniLM-L6-v2")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--limit", type=int, default=None, help="first N documents of each split (smoke runs)")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()

    set_seed(args.seed)
    report = Report()
    corpus = load_corpus(args.corpus, report=report)
    splits = {name: docs[: args.limit] if args.limit else docs for name, docs in corpus.splits.items()}
    data = {name: sentences(docs, report) for name, docs in splits.items()}
    labels = corpus.all_labels()
    tags = ["O"] + [f"{p}-{label}" for label in labels for p in ("B", "I")]
    tag_ids = {t: i for i, t in enumerate(tags)}

    source = resolve_backbone(args.backbone)
    tokenizer = AutoTokenizer.from_pretrained(source, add_prefix_space=True)
    model = AutoModelForTokenClassification.from_pretrained(
        source, num_labels=len(tags), id2label=dict(enumerate(tags)), label2id=tag_ids
    )
    encoded = {name: Encoded(items, tokenizer, tag_ids, args.max_length) for name, items in data.items()}

    def seqeval_f1(prediction: EvalPrediction) -> dict[str, float]:
        predicted = np.argmax(prediction.predictions, axis=-1)
        gold_seqs, pred_seqs = [], []
        for p_row, l_row in zip(predicted, prediction.label_ids, strict=True):
            keep = l_row != -100
            gold_seqs.append([tags[i] for i in l_row[keep]])
            pred_seqs.append([tags[i] for i in p_row[keep]])
        return {"f1": float(f1_score(gold_seqs, pred_seqs))}

    training_args = TrainingArguments(
        output_dir=str(args.output / "trainer"),
        num_train_epochs=args.epochs,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=64,
        eval_strategy="epoch",
        save_strategy="no",
        seed=args.seed,
        report_to=[],
        logging_strategy="epoch",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["dev"],
        data_collator=DataCollatorForTokenClassification(tokenizer),
        compute_metrics=seqeval_f1,
    )
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started

    test_items = data["test"]
    started = time.perf_counter()
    logits = trainer.predict(encoded["test"]).predictions
    predict_seconds = time.perf_counter() - started
    entities: dict[str, list[Any]] = {doc.id: [] for doc in splits["test"]}
    for (doc, view), row, word_ids in zip(test_items, logits, encoded["test"].word_ids, strict=True):
        predicted_tags = word_tags(row, word_ids, len(view.tokens), tags)
        entities[doc.id].extend(decode(view.tokens, predicted_tags, doc.text, "IOB2"))
    predictions = [doc.with_entities(entities[doc.id]) for doc in splits["test"]]
    scores = evaluate(splits["test"], predictions)

    result = {
        "system": "transformers run_ner recipe",
        "corpus": args.corpus,
        "backbone": args.backbone,
        "epochs": args.epochs,
        "seed": args.seed,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "truncated_sentences": {name: enc.truncated for name, enc in encoded.items()},
        "train_seconds": round(train_seconds, 1),
        "predict_seconds": round(predict_seconds, 1),
        "strict_f1": scores.overall["strict"].f1,
        "partial_f1": scores.overall["partial"].f1,
        "report": scores.to_dict(),
        "conversion": report.lines(),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    # The test predictions themselves, as bioner writes them, so the recipe can be scored against bioner's
    # predictions (the same scorer, paired-bootstrap intervals: benchmarks/plain_recipe.py) without running again.
    write_documents(predictions, args.output / "predictions-test.jsonl")
    (args.output / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in {"report"}}, indent=2))


if __name__ == "__main__":
    main()
