"""GPU speed of the full predict path (text in, character spans out) against the raw backbone forward.

The requirement: ``EncoderTagger.predict`` reaches at least half the sub-tokens per second of the
bare model forward on the same inputs, at bert-base and bert-large size, measured in the same run.

For each shape a randomly initialised ``BertModel`` (seeded; random weights are enough for speed)
and the packaged MiniLM WordPiece tokenizer are written to a temporary folder, and an
``EncoderTagger`` is built on it with ``tagger.build`` (the step ``fit`` runs before training:
backbone and tokenizer loaded from ``model.backbone``, window length capped, a fresh head on top),
with a single label ``Disease``. Nothing is trained. The texts are NCBI-disease test abstracts,
entities stripped, repeated ``--copies`` times so that a GPU run lasts long enough to time.

Two things are timed, interleaved, each the median of ``--repeats`` runs after a warm-up, with
``torch.cuda.synchronize()`` before reading the clock on a GPU:

* predict: ``tagger.predict(docs, batch_size=B)``, everything from raw text to character spans
  (sentence splitting, tokenization, windows, batching, host-to-device copies, the forward and
  the head in bf16 autocast on CUDA, log-softmax, device-to-host copies, Viterbi, offsets).
* forward, the reference: the very segments predict makes (``tagger.featurize``), tokenized,
  sorted by length and collated into the same batches as predict (``segments.collate``) and put on
  the device beforehand; only the loop of ``module.backbone(input_ids=..., attention_mask=...)``
  calls is timed, under ``torch.inference_mode`` and the same autocast predict uses.

Both rates divide the same count, the real (unpadded) sub-tokens of all segments, so the ratio
predict / forward in tokens per second is the share of the forward's speed that the predict path
keeps; the target is at least 0.5. The time of featurization alone (CPU) is reported too, to show
where the rest goes.

    PYTHONPATH=src python benchmarks/gpu_speed.py --shapes base large
    python benchmarks/gpu_speed.py --shapes tiny --copies 1 --repeats 1 --output /tmp/gpu_speed_tiny.json
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from common import device_batches, environment, timed
from transformers import AutoTokenizer, BertConfig, BertModel

from bioner.backbones import resolve_backbone
from bioner.corpora import load_corpus
from bioner.errors import Report
from bioner.models.base import Runtime
from bioner.models.device import autocast, inference_bf16, resolve_device
from bioner.models.encoder import EncoderTagger
from bioner.models.segments import pad_id, quiet_loading
from bioner.training.config import DEFAULT_BACKBONE, load_config
from bioner.types import Document

SHAPES: dict[str, dict[str, int]] = {
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64},
    "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
    "large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
}
"""BERT sizes; ``tiny`` only exists so the script can be tested on a CPU in seconds."""
TARGET_RATIO = 0.5
GPU_DOCS = 1000
"""About this many documents per timed run on a GPU (the default number of copies is set from it)."""


def build_tagger(shape: str, tokenizer_source: str, device_name: str, batch_size: int, seed: int) -> EncoderTagger:
    """An untrained ``EncoderTagger`` on a seeded random BERT of ``shape``, built the way ``fit`` builds one."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    size = SHAPES[shape]
    bert_config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=size["hidden_size"],
        num_hidden_layers=size["num_hidden_layers"],
        num_attention_heads=size["num_attention_heads"],
        intermediate_size=size["intermediate_size"],
        max_position_embeddings=512,
    )
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory(prefix=f"gpu_speed_{shape}_") as folder, quiet_loading():
        BertModel(bert_config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        config = load_config(
            None,
            [
                f"model.backbone={folder}",
                'model.labels=["Disease"]',
                f"train.device={device_name}",
                f"train.eval_batch_size={batch_size}",
                f"train.seed={seed}",
            ],
        )
        runtime = Runtime(device=device_name, precision=config.train.precision, batch_size=batch_size)
        tagger = EncoderTagger(config.model, runtime)  # type: ignore[arg-type]
        tagger.build({"": ["Disease"]}, Report())  # everything is in memory once this returns
    assert tagger.module is not None
    tagger.module.to(resolve_device(tagger.runtime.device)).eval()
    return tagger


def forward_all(backbone: torch.nn.Module, batches: Sequence[tuple[torch.Tensor, torch.Tensor]], bf16: bool) -> None:
    """The raw backbone forward over every batch, as predict runs it (inference mode, same autocast)."""
    if not batches:
        return
    device = batches[0][0].device
    with torch.inference_mode(), autocast(device, bf16):
        for input_ids, attention_mask in batches:
            backbone(input_ids=input_ids, attention_mask=attention_mask)


def measure_shape(
    shape: str, docs: Sequence[Document], args: argparse.Namespace, tokenizer_source: str
) -> dict[str, Any]:
    """Predict and raw-forward timings of one shape on ``docs``."""
    built = time.perf_counter()
    tagger = build_tagger(shape, tokenizer_source, args.device, args.batch_size, args.seed)
    build_s = time.perf_counter() - built
    module = tagger.module
    assert module is not None
    device = resolve_device(tagger.runtime.device)
    bf16 = inference_bf16(tagger.runtime.precision, device)
    pad = pad_id(tagger.tokenizer)

    _, segments = tagger.featurize(docs, gold=False, report=None)
    tokens = sum(len(s.input_ids) for s in segments)
    batches = device_batches(segments, pad, args.batch_size, device)
    padded = sum(ids.numel() for ids, _ in batches)

    def predict() -> list[Document]:
        found: list[Document] = tagger.predict(docs)
        return found

    def forward() -> None:
        forward_all(module.backbone, batches, bf16)

    def featurize() -> Any:
        return tagger.featurize(docs, gold=False, report=None)

    timed(predict, device)  # warm-up: kernels chosen, allocator grown, caches filled
    timed(forward, device)
    predict_times, forward_times, featurize_times = [], [], []
    predicted: list[Document] = []
    for _ in range(args.repeats):  # interleaved, so drift (clocks, heat) hits both sides alike
        seconds, predicted = timed(predict, device)
        predict_times.append(seconds)
        forward_times.append(timed(forward, device)[0])
        featurize_times.append(timed(featurize, device)[0])
    predict_s, forward_s = statistics.median(predict_times), statistics.median(forward_times)
    featurize_s = statistics.median(featurize_times)
    ratio = forward_s / predict_s  # = predict tokens/s ÷ forward tokens/s: same token count on both sides
    result = {
        "bert_config": {**SHAPES[shape], "vocab_size": module.backbone.config.vocab_size, "max_position": 512},
        "parameters": sum(p.numel() for p in module.backbone.parameters()),
        "device": str(device),
        "precision": "bf16 autocast" if bf16 else "fp32",
        "batch_size": args.batch_size,
        "window": tagger.settings.max_length,
        "build_s": round(build_s, 2),
        "documents": len(docs),
        "segments": len(segments),
        "sub_tokens": tokens,
        "padded_sub_tokens": padded,
        "batches": len(batches),
        "predicted_entities": sum(len(d.entities) for d in predicted),
        "predict": {
            "seconds": round(predict_s, 4),
            "all_seconds": [round(t, 4) for t in predict_times],
            "docs_per_s": round(len(docs) / predict_s, 2),
            "sub_tokens_per_s": round(tokens / predict_s, 1),
        },
        "forward": {
            "seconds": round(forward_s, 4),
            "all_seconds": [round(t, 4) for t in forward_times],
            "sub_tokens_per_s": round(tokens / forward_s, 1),
        },
        "featurize": {"seconds": round(featurize_s, 4), "share_of_predict": round(featurize_s / predict_s, 3)},
        "ratio": round(ratio, 3),
        "outside_forward_share": round(1 - ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }
    return result


def table(results: dict[str, dict[str, Any]]) -> str:
    """The per-shape results as a markdown table."""
    lines = [
        "| shape | params | precision | docs | sub-tokens | batch | predict s | predict docs/s | predict tok/s "
        "| forward s | forward tok/s | ratio (target ≥ 0.5) | outside forward | featurize share |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, r in results.items():
        p, f = r["predict"], r["forward"]
        lines.append(
            f"| {shape} | {r['parameters'] / 1e6:.1f}M | {r['precision']} | {r['documents']} | {r['sub_tokens']} "
            f"| {r['batch_size']} | {p['seconds']:.3f} | {p['docs_per_s']:.1f} | {p['sub_tokens_per_s']:.0f} "
            f"| {f['seconds']:.3f} | {f['sub_tokens_per_s']:.0f} | {r['ratio']:.2f} "
            f"{'pass' if r['meets_target'] else 'FAIL'} | {r['outside_forward_share']:.0%} "
            f"| {r['featurize']['share_of_predict']:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=["base", "large"])
    parser.add_argument("--corpus", default="ncbi-disease")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents of the split")
    parser.add_argument(
        "--copies", type=int, default=None, help=f"repeat the texts N times (default: ~{GPU_DOCS} docs on GPU, else 1)"
    )
    parser.add_argument("--batch-size", type=int, default=64, help="segments per batch (EncoderTagger default: 64)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (train.device)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--tokenizer", default=DEFAULT_BACKBONE, help="tokenizer folder (default: the packaged MiniLM's WordPiece)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/gpu_speed.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    source = [Document(d.id, d.text) for d in load_corpus(args.corpus, splits=[args.split])[args.split]]
    source = source[: args.limit] if args.limit else source
    copies = args.copies or (max(1, math.ceil(GPU_DOCS / max(1, len(source)))) if device.type == "cuda" else 1)
    docs = [Document(f"{d.id}#{k}", d.text) for k in range(copies) for d in source]
    tokenizer_source = resolve_backbone(args.tokenizer)

    results = {}
    for shape in args.shapes:
        results[shape] = measure_shape(shape, docs, args, tokenizer_source)
        gc.collect()  # the shape's model and batches are gone with measure_shape's frame; free their GPU memory
        if device.type == "cuda":
            torch.cuda.empty_cache()
        print(f"{shape}: ratio {results[shape]['ratio']:.3f}", file=sys.stderr, flush=True)
    result = {
        "benchmark": "gpu predict speed (text in, character spans out) against the raw backbone forward",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", *sys.argv]),
        "machine": environment(device),
        "tokenizer": f"{args.tokenizer} ({tokenizer_source}); random-weight BERT backbones (seed {args.seed})",
        "texts": (
            f"{args.corpus} {args.split}: {len(source)} documents x {copies} copies = {len(docs)} documents, "
            f"{sum(len(d.text) for d in docs)} characters"
        ),
        "repeats": args.repeats,
        "shapes": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
