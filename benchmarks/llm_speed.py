"""Speed of the llm-tagger's predict path against the same model's raw forward and BIO-tag generation.

An LLM can tag a sentence two ways: one bidirectional forward pass that scores every word
(VANER, what ``bioner`` does), or by generating the BIO tags token by token, as the
LLMs-vs-encoders comparison did (about 2 s per sentence for an 8B model on an H100). This
script measures both on one model in one run, in sentences per second:

* **predict path**: :meth:`LLMTagger.predict` on the texts, from raw text to character spans
  (sentence splitting, tokenization, windows, batching, LoRA adapters, head, Viterbi, decoding),
  at ``--batch-size``, exactly as a trained tagger predicts (bf16 base weights on CUDA,
  peft's LoRA adapters and the head under bf16 autocast). The tagger is built around the
  in-memory model (``_attach``), untrained: speed does not depend on the weights.
* **raw forward**: the very segments the predict path scores, sorted by length and batched the
  same way, already collated on the device; only ``base(input_ids, attention_mask)`` of the
  bidirectional base model (no LoRA, no head) is timed: the floor the predict path is measured against.
* **generation**: the same model with its causal mask (``LlamaForCausalLM``, the same weights,
  timed before the mask is removed) given the tagger's instruction and the sentence, greedily
  generating one tag token and one separator per word (``min_new_tokens = max_new_tokens = 2 x
  words``, so random weights cannot stop early), with the KV cache of ``model.generate``: at batch
  size 1, and in batches of ``--generate-batch`` sentences sorted by length with left padding
  (a batch runs until its longest sentence is done). This runs on a sample of
  ``--generate-sentences`` sentences spread over the texts; each sentence is one measurement, so
  it runs once after a warm-up rather than ``--repeats`` times.

Weights are random (a Llama 3.1 8B config by default, ``llama-1b`` for a CPU, built on the device
with no copy on disk: bf16 on CUDA, fp32 with bf16 autocast on a CPU as the tagger runs there,
or bf16 everywhere with ``--dtype bf16``);
the tokenizer is the packaged MiniLM one (BERT uncased WordPiece, ids below Llama's vocabulary),
as no Llama tokenizer is available offline: a Llama tokenizer splits words somewhat differently,
so sequence lengths, and with them all three rates, would shift a little (``--tokenizer`` takes
a real one). The texts are the sentences of the NCBI-disease test split (one entity type, so one
instance per sentence). Predict and raw forward are timed ``--repeats`` times after a warm-up and
the median is kept; every rate is also given as a ratio to generation at batch size 1.

    PYTHONPATH=src python benchmarks/llm_speed.py --shape llama-8b --output benchmarks/results/llm_speed.json
    PYTHONPATH=src python benchmarks/llm_speed.py --shape llama-1b --device cpu --limit 10 --generate-sentences 6 \
        --generate-batch 6 --output benchmarks/results/llm_speed_cpu.json  # two CPU cores, ~15 min
    python benchmarks/llm_speed.py --shape tiny --limit 3 --repeats 1 --output /tmp/llm_speed_tiny.json  # CPU test
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import torch
from common import device_batches, environment, median_seconds, synchronize
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

from bioner.backbones import resolve_backbone
from bioner.corpora import load_corpus
from bioner.errors import Report
from bioner.models.base import Runtime
from bioner.models.bidirectional import make_bidirectional
from bioner.models.device import autocast, inference_bf16, resolve_device
from bioner.models.instructions import Instance, instances_for
from bioner.models.llm_tagger import LLMTagger
from bioner.models.segments import pad_id
from bioner.training.config import DEFAULT_BACKBONE, load_config

CORPUS = "ncbi-disease"
LABEL = "Disease"
SHAPES: dict[str, dict[str, Any]] = {
    "llama-8b": {  # Llama 3.1 8B (its 128k context and rope scaling left out: no effect on 128-token inputs)
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 128256,
        "rope_theta": 500000.0,
        "max_position_embeddings": 8192,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
    },
    "llama-1b": {  # Llama 3.2 1B: the same family at a size two CPU cores can measure
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 8192,
        "vocab_size": 128256,
        "rope_theta": 500000.0,
        "max_position_embeddings": 8192,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": True,
    },
    "tiny": {  # for a CPU check of the script
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": 128256,
        "rope_theta": 500000.0,
        "max_position_embeddings": 8192,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
    },
}


def llama_config(shape: str) -> LlamaConfig:
    """The config of one shape, with sdpa attention (the llm-tagger's default)."""
    return LlamaConfig(**SHAPES[shape], attn_implementation="sdpa")


def parameter_count(config: LlamaConfig) -> int:
    """Parameters of the causal LM, counted on the meta device (no memory)."""
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)  # type: ignore[no-untyped-call]
    return sum(p.numel() for p in model.parameters())


def build_model(config: LlamaConfig, device: torch.device, dtype: torch.dtype) -> Any:
    """A randomly initialised causal LM built directly on ``device`` in ``dtype`` (no fp32 copy, no disk)."""
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")  # type: ignore[no-untyped-call]
    return model.eval()


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None


def sample(items: Sequence[Instance], n: int) -> list[Instance]:
    """``n`` items spread evenly over ``items`` (not just the first, often short, title sentences)."""
    if n >= len(items):
        return list(items)
    return [items[round(i * (len(items) - 1) / max(n - 1, 1))] for i in range(n)]


def prompt_ids(tokenizer: Any, instance: Instance) -> list[int]:
    """The tagger's instruction, the sentence and an output marker, as the generation prompt."""
    text = f"{instance.instruction} {' '.join(instance.words)}\n### Output:"
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    return bos + list(tokenizer(text, add_special_tokens=False)["input_ids"])


def generate_tags(model: Any, prompts: Sequence[list[int]], new_tokens: int, pad: int, device: torch.device) -> int:
    """Greedy generation of exactly ``new_tokens`` tokens after each (left-padded) prompt; tokens generated."""
    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.tensor(prompt)
        attention[row, width - len(prompt) :] = 1
    out = model.generate(
        input_ids=input_ids.to(device),
        attention_mask=attention.to(device),
        do_sample=False,
        min_new_tokens=new_tokens,
        max_new_tokens=new_tokens,
        pad_token_id=pad,
        use_cache=True,
    )
    generated = out.shape[1] - width
    assert generated == new_tokens, (generated, new_tokens)
    return int(generated * len(prompts))


def time_generation(
    model: Any, tokenizer: Any, chosen: Sequence[Instance], batch: int, pad: int, device: torch.device, bf16: bool
) -> dict[str, Any]:
    """Generate 2 tokens per word for every chosen sentence, ``batch`` sentences at a time (sorted by length)."""
    order = sorted(chosen, key=lambda x: len(prompt_ids(tokenizer, x))) if batch > 1 else list(chosen)
    seconds, tokens = 0.0, 0
    with torch.inference_mode(), autocast(device, bf16):
        for start in range(0, len(order), batch):
            part = order[start : start + batch]
            prompts = [prompt_ids(tokenizer, x) for x in part]
            new_tokens = 2 * max(len(x.words) for x in part)
            synchronize(device)
            started = time.perf_counter()
            tokens += generate_tags(model, prompts, new_tokens, pad, device)
            synchronize(device)
            seconds += time.perf_counter() - started
    return {"seconds": seconds, "sentences": len(order), "generated_tokens": tokens}


def raw_forward(base: Any, batches: Sequence[Any], bf16: bool) -> int:
    """One forward of the base model per batch; the number of sub-tokens read."""
    with torch.inference_mode(), autocast(batches[0][0].device, bf16):
        for input_ids, attention_mask in batches:
            base(input_ids=input_ids, attention_mask=attention_mask)
    return sum(int(mask.sum()) for _, mask in batches)


def row(name: str, seconds: float, sentences: int, reference: float | None, **extra: Any) -> dict[str, Any]:
    rate = sentences / seconds
    return {
        "path": name,
        "seconds": round(seconds, 4),
        "sentences": sentences,
        "sentences_per_s": round(rate, 3),
        "s_per_sentence": round(seconds / sentences, 5),
        "vs_generation_bs1": round(rate / reference, 1) if reference else 1.0,
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="llama-8b")
    parser.add_argument("--device", default="auto", help="auto (CUDA when there is one), cuda, cpu")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N documents")
    parser.add_argument("--batch-size", type=int, default=32, help="predict and raw forward batch size")
    parser.add_argument("--max-length", type=int, default=128, help="model.max_length of the tagger")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--generate-sentences", type=int, default=None, help="default: 50 (llama-8b), 3 (tiny)")
    parser.add_argument("--generate-batch", type=int, default=16, help="batched generation; 0 or 1: skip it")
    parser.add_argument("--tokenizer", default=DEFAULT_BACKBONE, help="tokenizer folder (default: packaged MiniLM)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--dtype",
        choices=["auto", "bf16"],
        default="auto",
        help="weights: auto (as LLMTagger loads its base: bf16 on CUDA, fp32 + bf16 autocast on a CPU) or bf16",
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/llm_speed.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = resolve_device(args.device)
    bf16_weights = args.dtype == "bf16" or device.type == "cuda"  # auto: as LLMTagger loads its base
    dtype = torch.bfloat16 if bf16_weights else torch.float32
    n_generate = args.generate_sentences or (50 if args.shape == "llama-8b" else 3)

    overrides = [
        "model.backend=llm-tagger",
        f"data.corpus={CORPUS}",
        f"model.max_length={args.max_length}",
        f"model.window_overlap={args.max_length // 4}",
        "model.attention=sdpa",
        f"train.device={device}",
        "train.precision=auto",
        f"train.eval_batch_size={args.batch_size}",
    ]
    config = load_config(None, overrides)
    # bf16 compute wherever the predict path has it (its autocast); autocast only where the weights are not bf16
    cast = inference_bf16(config.train.precision, device) and dtype != torch.bfloat16
    docs = [d.with_entities([]) for d in load_corpus(CORPUS, splits=[args.split])[args.split]][: args.limit]
    tokenizer = AutoTokenizer.from_pretrained(resolve_backbone(args.tokenizer), local_files_only=True)
    model_config = llama_config(args.shape)
    n_params = parameter_count(model_config)

    started = time.perf_counter()
    reset_peak(device)
    causal = build_model(model_config, device, dtype)
    synchronize(device)
    build_s = time.perf_counter() - started
    weights_gib = peak_gib(device)
    base = causal.model  # the decoder without its LM head: what LLMTagger wraps (AutoModel)
    pad = pad_id(tokenizer)

    # Instances exactly as predict builds them (one per sentence: the corpus has one entity type).
    instances = list(instances_for(docs, CORPUS, [LABEL], "corpus", gold=False, report=Report()))
    chosen = sample(instances, n_generate)

    # (c) generation first: make_bidirectional and the LoRA adapters change the model in place.
    time_generation(causal, tokenizer, chosen[:1], 1, pad, device, cast)  # warm-up
    reset_peak(device)
    generation = {"bs1": time_generation(causal, tokenizer, chosen, 1, pad, device, cast)}
    generation["bs1"]["peak_gib"] = peak_gib(device)
    if args.generate_batch > 1:
        time_generation(causal, tokenizer, chosen[: args.generate_batch], args.generate_batch, pad, device, cast)
        reset_peak(device)
        batched = time_generation(causal, tokenizer, chosen, args.generate_batch, pad, device, cast)
        generation[f"bs{args.generate_batch}"] = batched | {"peak_gib": peak_gib(device)}

    # (a) the predict path: the bidirectional base, LoRA adapters and head, as LLMTagger.load builds it.
    make_bidirectional(base)
    runtime = Runtime(device=str(device), precision=config.train.precision, batch_size=args.batch_size)
    tagger = LLMTagger(config.model, runtime)  # type: ignore[arg-type]
    tagger.attach(tokenizer, base)
    tagger.types = {CORPUS: [LABEL]}
    assert tagger.module is not None
    tagger.module.to(device).eval()
    tagger.predict(docs[:8])  # warm-up
    reset_peak(device)
    predict_s, predict_times, predicted = median_seconds(lambda: tagger.predict(docs), args.repeats, device)
    predict_peak = peak_gib(device)
    windows, segments = tagger.featurize(instances, Report())

    # (b) the raw forward of the bidirectional base (LoRA layers taken out again), on the same segments.
    bare = tagger.peft_model().unload()
    assert bare is base and not any("lora" in name for name, _ in base.named_modules())
    batches = device_batches(segments, pad, args.batch_size, device)
    raw_forward(base, batches[:2], cast)  # warm-up
    reset_peak(device)
    forward_s, forward_times, sub_tokens = median_seconds(
        lambda: raw_forward(base, batches, cast), args.repeats, device
    )
    forward_peak = peak_gib(device)

    bs1 = generation["bs1"]
    reference = bs1["sentences"] / bs1["seconds"]
    rows = [
        row(
            f"bioner predict (batch {args.batch_size})",
            predict_s,
            len(instances),
            reference,
            repeats_s=[round(t, 4) for t in predict_times],
            entities=sum(len(d.entities) for d in predicted),
            peak_gib=predict_peak,
        ),
        row(
            f"raw forward (batch {args.batch_size})",
            forward_s,
            len(instances),
            reference,
            repeats_s=[round(t, 4) for t in forward_times],
            segments=len(segments),
            sub_tokens=sub_tokens,
            peak_gib=forward_peak,
        ),
    ]
    for key, run in generation.items():
        name = f"generation, token by token (batch {key.removeprefix('bs')})"
        extra = {"generated_tokens": run["generated_tokens"], "peak_gib": run["peak_gib"]}
        rows.append(row(name, run["seconds"], run["sentences"], reference, **extra))

    words = [len(x.words) for x in instances]
    result = {
        "benchmark": "llm-tagger speed: predict path vs raw forward vs token-by-token BIO generation",
        "date": date.today().isoformat(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {**environment(device), "peft": importlib.metadata.version("peft")},
        "model": {
            "shape": args.shape,
            "config": SHAPES[args.shape],
            "parameters": n_params,
            "weights": "random",
            "dtype": str(dtype).removeprefix("torch."),
            "predict_autocast_bf16": inference_bf16(config.train.precision, device),
            "forward_and_generation_autocast_bf16": cast,
            "lora_r": config.model.lora_r,
            "build_s": round(build_s, 2),
            "weights_gib": weights_gib,
        },
        "tokenizer": f"{args.tokenizer} (not a Llama tokenizer; see the module docstring)",
        "texts": {
            "corpus": f"{CORPUS} {args.split}",
            "documents": len(docs),
            "sentences": len(instances),
            "segments": len(segments),
            "windowed_sentences": sum(n > 1 for n in Counter(w.instance for w in windows).values()),
            "mean_words": round(statistics.mean(words), 1),
            "generation_sample": len(chosen),
            "generation_sample_mean_words": round(statistics.mean(len(x.words) for x in chosen), 1),
        },
        "max_length": args.max_length,
        "repeats": args.repeats,
        "rows": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")

    env, dtype_name = result["machine"], result["model"]["dtype"]
    print(f"{env['device']} ({env['torch_threads']} torch threads); {args.shape} ({n_params / 1e9:.2f}B, {dtype_name})")
    print(f"{len(instances)} sentences of {len(docs)} documents; generation on {len(chosen)} of them\n")
    print("| path | sentences/s | s per sentence | × generation (batch 1) |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['path']} | {r['sentences_per_s']:.2f} | {r['s_per_sentence']:.4f} | {r['vs_generation_bs1']} |")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
