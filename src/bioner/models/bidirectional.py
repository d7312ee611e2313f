"""Removing a decoder's causal mask, so every token sees the whole input (VANER, LS-unLLaMA).

transformers builds each decoder's masks in ``masking_utils``: ``create_causal_mask`` and
``create_sliding_window_causal_mask`` fall back to their bidirectional forms when the model
config says ``is_causal = False``, and the attention kernels (sdpa, flash) read the
``is_causal`` attribute of each attention module when no mask tensor is passed (a batch
without padding). Setting both is one general switch for Llama, Mistral, Qwen2 and Gemma 3
with eager or sdpa attention: full-attention layers become full, sliding-window layers
become symmetric windows (each token sees ``sliding_window`` tokens on both sides), and
padding stays masked.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from bioner.errors import BionerError


def make_bidirectional(model: nn.Module) -> int:
    """Turn off causal masking in ``model`` (in place); returns how many attention modules changed.

    A model with no module holding an ``is_causal`` flag cannot be switched reliably, so it is an error.
    """
    configs = {id(c): c for c in _configs(model)}
    for config in configs.values():
        config.is_causal = False
    changed = 0
    for module in model.modules():
        if hasattr(module, "is_causal") and isinstance(module.is_causal, bool):
            module.is_causal = False
            changed += 1
    if changed == 0:
        raise BionerError(f"{type(model).__name__}: found no attention modules to make bidirectional")
    return changed


def is_bidirectional(model: nn.Module) -> bool:
    """Whether every config and attention module of ``model`` has its causal mask off."""
    modules = [m for m in model.modules() if isinstance(getattr(m, "is_causal", None), bool)]
    configs_off = all(not getattr(c, "is_causal", True) for c in _configs(model))
    return bool(modules) and configs_off and not any(m.is_causal for m in modules)


def _configs(model: nn.Module) -> list[Any]:
    """The model's config and any sub-config (a multimodal model's text config) its layers read."""
    found = []
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "to_dict"):
            found.append(config)
            text = getattr(config, "text_config", None)
            if text is not None:
                found.append(text)
    return found
