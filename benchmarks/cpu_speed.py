"""CPU speed of ``bioner predict`` against ``transformers.pipeline`` on the same model and texts.

Both sides get the same weights: the bioner model's backbone and head are copied into an
``AutoModelForTokenClassification``, which the pipeline runs with
``aggregation_strategy="first"`` (the pipeline equivalent of first-sub-token tagging), in fp32
at batch size 1 (its default), and cast to bf16 (what bioner does by default on a CPU
with native bf16), so the gain of bf16 and the gain of bioner's own path can be told apart.
Both go from raw text to character spans. Each side runs once untimed on the same texts, then
``--repeats`` rounds time every side once in turn (so a change in load hits all alike) and the
median is kept; the result is the ratio of documents per second in the same run. The
``ceiling`` entry compares bioner's rate of linear-layer FLOPs with this CPU's measured peak on a
matrix product of the model's shape, which bounds what any path over these weights could gain.

bioner runs twice, at its default (bf16 on a CPU with native bf16) and with ``precision="int8"``
(SmoothQuant-smoothed per-channel int8 linear layers, :mod:`bioner.models.quantize`, with the
model folder's calibration: ``bioner train`` writes it, ``bioner calibrate`` adds it to an older
model); ``accuracy_gate`` scores both
runs' predictions on the same documents (by default the whole NCBI-disease test split) with the
strict scorer and passes when int8 loses at most 0.3 F1 points. ``raw_forward`` times the model's
forward alone over the same bf16 batches, already collated, so ``bf16 path share of raw forward``
says how much of bioner's time goes outside the model.

    python benchmarks/cpu_speed.py --model runs/quickstart --output benchmarks/results/cpu_speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import torch
from common import interleaved_medians
from transformers import AutoModelForTokenClassification, pipeline

from bioner.corpora import load_corpus
from bioner.evaluation.evaluate import evaluate
from bioner.models.device import autocast, inference_bf16
from bioner.models.encoder import EncoderTagger
from bioner.models.quantize import accuracy_gate, with_precision
from bioner.models.registry import load_model
from bioner.models.segments import collate, pad_id
from bioner.types import Document


def pipeline_model(tagger: EncoderTagger) -> Any:
    """An ``AutoModelForTokenClassification`` holding exactly the tagger's weights."""
    assert tagger.module is not None
    config = tagger.module.backbone.config
    config.num_labels = len(tagger.tags)
    config.id2label = dict(enumerate(tagger.tags))
    config.label2id = {t: i for i, t in enumerate(tagger.tags)}
    model = AutoModelForTokenClassification.from_config(config)
    missing, unexpected = model.base_model.load_state_dict(tagger.module.backbone.state_dict(), strict=False)
    assert not missing and all(k.startswith("pooler.") for k in unexpected), (missing, unexpected)
    model.classifier.load_state_dict(tagger.module.head.linear.state_dict())
    return model.eval()


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def matmul_gflops(dtype: torch.dtype, rows: int, inner: int, outer: int, repeats: int = 30) -> float:
    """This CPU's rate on one matrix product of the model's own shape (the ceiling of its linear layers)."""
    a, b = torch.randn(rows, inner, dtype=dtype), torch.randn(inner, outer, dtype=dtype)
    for _ in range(3):
        a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * rows * inner * outer * repeats / (time.perf_counter() - started) / 1e9


def ceiling(tagger: EncoderTagger, docs: list[Document], bioner_s: float) -> dict[str, Any]:
    """How close bioner's whole predict path comes to the CPU's matrix-product peak.

    The encoder's linear layers cost 2 × (4 h² + 2 h f) FLOPs per sub-token and layer (h hidden,
    f feed-forward width); attention scores add little at sentence lengths. Dividing the FLOPs of the
    padded sub-tokens bioner feeds by its wall time, and comparing with the measured peak of one
    product of the model's shapes, says how much any path over these weights could still gain.
    """
    config = tagger.module.backbone.config if tagger.module is not None else None
    assert config is not None
    hidden, ffn, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    _, segments = tagger.featurize(docs, gold=False, report=None)
    real = sum(len(s.input_ids) for s in segments)
    order = sorted(len(s.input_ids) for s in segments)
    batch = tagger.runtime.batch_size
    padded = sum(max(order[i : i + batch]) * len(order[i : i + batch]) for i in range(0, len(order), batch))
    flops = 2 * (4 * hidden * hidden + 2 * hidden * ffn) * layers * padded
    peaks = {
        str(dt).removeprefix("torch."): matmul_gflops(dt, 2560, hidden, ffn) for dt in (torch.float32, torch.bfloat16)
    }
    return {
        "sub_tokens": {"real": real, "padded": padded},
        "linear_gflop": round(flops / 1e9, 1),
        "matmul_peak_gflops": {k: round(v, 1) for k, v in peaks.items()},
        "bioner_gflops": round(flops / bioner_s / 1e9, 1),
        "bioner_share_of_bf16_peak": round(flops / bioner_s / 1e9 / peaks["bfloat16"], 3),
    }


def raw_forward(tagger: EncoderTagger, docs: list[Document]) -> Callable[[], None]:
    """The model's bf16 forward alone over bioner's own batches, collated beforehand (a call to time)."""
    assert tagger.module is not None
    _, segments = tagger.featurize(docs, gold=False, report=None)
    ordered = sorted(segments, key=lambda s: len(s.input_ids))
    size = tagger.runtime.batch_size
    batches = [collate(ordered[i : i + size], pad_id(tagger.tokenizer)) for i in range(0, len(ordered), size)]
    module, cpu = tagger.module.eval(), torch.device("cpu")

    def forward() -> None:
        with torch.inference_mode(), autocast(cpu, inference_bf16("auto", cpu)):
            for b in batches:
                module(b["input_ids"], b["attention_mask"], b["word_index"])

    return forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path("runs/quickstart"))
    parser.add_argument("--corpus", default="ncbi-disease")
    parser.add_argument("--split", default="test")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    tagger = load_model(args.model)
    assert isinstance(tagger, EncoderTagger)
    docs = [Document(d.id, d.text) for d in load_corpus(args.corpus, splits=[args.split])[args.split]]
    texts = [d.text for d in docs]
    fp32 = pipeline_model(tagger)
    pipes = {
        "fp32": pipeline("token-classification", model=fp32, tokenizer=tagger.tokenizer, aggregation_strategy="first"),
        "bf16": pipeline(
            "token-classification",
            model=pipeline_model(tagger).to(torch.bfloat16),
            tokenizer=tagger.tokenizer,
            aggregation_strategy="first",
        ),
    }

    int8 = with_precision(load_model(args.model), "int8")
    cpu = torch.device("cpu")
    runs: dict[str, Callable[[], Any]] = {
        "bioner": lambda: tagger.predict(docs),
        "bioner_int8": lambda: int8.predict(docs),
        "raw_forward": raw_forward(tagger, docs),
        **{f"{name} batch_size=1": (lambda p=pipe: p(texts, batch_size=1)) for name, pipe in pipes.items()},
    }
    timings = interleaved_medians(runs, args.repeats, cpu)
    bioner_s, bioner_times, predicted = timings["bioner"]
    int8_s, int8_times, int8_predicted = timings["bioner_int8"]
    raw_s = timings["raw_forward"][0]
    gold = load_corpus(args.corpus, splits=[args.split])[args.split]
    gate = accuracy_gate(
        evaluate(gold, predicted).overall["strict"].f1, evaluate(gold, int8_predicted).overall["strict"].f1
    )
    pipeline_runs: dict[str, dict[str, Any]] = {}
    for name in pipes:
        seconds, all_seconds, found = timings[f"{name} batch_size=1"]
        pipeline_runs[f"{name} batch_size=1"] = {
            "seconds": round(seconds, 3),
            "docs_per_s": round(len(docs) / seconds, 2),
            "entities": sum(len(f) for f in found),
            "all_seconds": [round(t, 3) for t in all_seconds],
        }
    bioner_rate = len(docs) / bioner_s
    result = {
        "benchmark": "cpu predict speed, text in, character spans out",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, {platform.processor() or 'cpu'}",
        "model": str(args.model),
        "texts": f"{args.corpus} {args.split}: {len(docs)} documents, {sum(len(t) for t in texts)} characters",
        "repeats": args.repeats,
        "bioner": {
            "precision": "bf16" if inference_bf16("auto", torch.device("cpu")) else "fp32",
            "seconds": round(bioner_s, 3),
            "docs_per_s": round(bioner_rate, 2),
            "entities": sum(len(d.entities) for d in predicted),
            "all_seconds": [round(t, 3) for t in bioner_times],
        },
        "bioner_int8": {
            "precision": "int8 (smoothed, per-channel weights, dynamic activations)",
            "seconds": round(int8_s, 3),
            "docs_per_s": round(len(docs) / int8_s, 2),
            "entities": sum(len(d.entities) for d in int8_predicted),
            "all_seconds": [round(t, 3) for t in int8_times],
        },
        "raw_forward": {
            "seconds": round(raw_s, 3),
            "bf16 path share of raw forward": round(raw_s / bioner_s, 3),
        },
        "accuracy_gate": gate,
        "pipeline": pipeline_runs,
        "speedup": {f"vs pipeline {k}": round(bioner_rate / r["docs_per_s"], 2) for k, r in pipeline_runs.items()},
        "int8_speedup": {
            f"vs pipeline {k}": round(len(docs) / int8_s / r["docs_per_s"], 2) for k, r in pipeline_runs.items()
        },
        "ceiling": ceiling(tagger, docs, bioner_s),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
