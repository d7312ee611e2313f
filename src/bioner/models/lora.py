"""A Hugging Face decoder with LoRA adapters: what the ``llm-tagger`` and ``generative`` backends share.

Both load a decoder backbone the same way (no remote code; 4-bit on CUDA for QLoRA, else bf16
or fp32 as the runtime's precision says), put LoRA adapters on every linear layer (peft),
save the adapters to ``adapter/`` (never the base model) and read them back. One copy here
keeps the two backends' loading, error messages and saved adapters the same.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors.torch import load_file

from bioner.backbones import resolve_backbone
from bioner.errors import BionerError
from bioner.models.base import Runtime
from bioner.models.device import resolve_device, use_bf16
from bioner.models.segments import first_line, quiet_loading, reading_weights

ADAPTER_DIR = "adapter"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


class DecoderSettings(Protocol):
    """The fields of a backend's ``[model]`` that this module reads."""

    backbone: str
    attention: str
    lora_r: int
    lora_alpha: int
    lora_dropout: float


def settings_problems(settings: DecoderSettings) -> list[str]:
    """What is wrong with the LoRA fields (rank and alpha at least 1, dropout in [0, 1))."""
    problems = []
    if settings.lora_r < 1 or settings.lora_alpha < 1:
        problems.append(
            f"model.lora_r and model.lora_alpha must be at least 1, got {settings.lora_r}, {settings.lora_alpha}"
        )
    if not 0.0 <= settings.lora_dropout < 1.0:
        problems.append(f"model.lora_dropout must be in [0, 1), got {settings.lora_dropout}")
    return problems


def nf4_config(*, required: bool) -> Any:
    """QLoRA's 4-bit config (NF4, double quantization, bf16 compute); without bitsandbytes None, or an error."""
    try:
        import bitsandbytes  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        if required:
            raise BionerError("model.quantize = '4bit' needs the package bitsandbytes (pip install it)") from None
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(  # type: ignore[no-untyped-call]
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def load_decoder(
    model_class: Any,
    settings: DecoderSettings,
    runtime: Runtime,
    quantization: Callable[[torch.device], Any],
    tokenizer_source: str | Path | None = None,
) -> tuple[Any, Any, bool]:
    """Tokenizer, ``settings.backbone`` and whether it is 4-bit: ``quantization(device)`` gives the config, or None.

    ``model_class`` is the transformers auto class (``AutoModel``, ``AutoModelForCausalLM``);
    the tokenizer comes from ``tokenizer_source`` when given, else from the backbone. A
    backbone that cannot be loaded is a one-line error naming it.
    """
    from transformers import AutoTokenizer

    source = resolve_backbone(settings.backbone)
    device = resolve_device(runtime.device)
    options: dict[str, Any] = {"trust_remote_code": False, "attn_implementation": settings.attention}
    config = quantization(device)
    if config is not None:
        options.update(quantization_config=config, device_map={"": device.index or 0})
    else:
        options["dtype"] = torch.bfloat16 if use_bf16(runtime.precision, device) else torch.float32
    try:
        with quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(tokenizer_source or source, trust_remote_code=False)
            base = model_class.from_pretrained(source, **options)
    except (OSError, ValueError) as err:
        raise BionerError(f"cannot load backbone {settings.backbone!r}: {first_line(err)}") from None
    return tokenizer, base, config is not None


def with_adapters(peft: Any, base: Any, settings: DecoderSettings, adapter: Path | None, **options: Any) -> Any:
    """``base`` with new LoRA adapters on every linear layer (``options`` go to ``LoraConfig``), or the saved ones.

    Saved adapters (``adapter``, a folder) are loaded frozen, for prediction.
    """
    if adapter is None:
        lora = peft.LoraConfig(
            r=settings.lora_r,
            lora_alpha=settings.lora_alpha,
            lora_dropout=settings.lora_dropout,
            target_modules="all-linear",
            **options,
        )
        return peft.get_peft_model(base, lora)
    with reading_weights(adapter, "adapters"):
        return peft.PeftModel.from_pretrained(base, adapter, is_trainable=False)


def save_adapters(model: Any, target: Path, **options: Any) -> None:
    """The adapters of ``model`` (a ``PeftModel``) in ``target/adapter``, replacing the old ones only once complete."""
    staging = target / f".{ADAPTER_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, **options)
    shutil.rmtree(target / ADAPTER_DIR, ignore_errors=True)
    staging.rename(target / ADAPTER_DIR)


def restore_adapters(peft: Any, model: Any, folder: str | Path) -> None:
    """The adapters saved in ``folder`` put back into ``model`` (a ``PeftModel``)."""
    path = Path(folder) / ADAPTER_DIR / ADAPTER_WEIGHTS
    with reading_weights(path, "adapters"):
        peft.set_peft_model_state_dict(model, load_file(path))


def prompt_ids(tokenizer: Any, text: str) -> list[int]:
    """BOS (when the tokenizer has one) and the sub-tokens of ``text``."""
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    return bos + list(tokenizer(text, add_special_tokens=False)["input_ids"])
