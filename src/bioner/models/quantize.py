"""int8 inference on a CPU: the encoder's linear layers with per-channel int8 weights.

``precision = "int8"`` at prediction time replaces every ``nn.Linear`` inside the backbone's
transformer layers by torch's dynamically quantized linear layer (``torch.ao`` eager-mode
``quantize_dynamic`` with the per-channel weight observer): weights are int8 with one scale per
output channel, activations are quantized per batch as they arrive, and the products run in
fbgemm/oneDNN int8 kernels. The embeddings, layer norms, attention scores and the tagging head
stay in fp32, so only the matrix products change. The quantized copy is made once per model and
kept beside it until the float weights change: they are never modified, and training never sees it.

torch's quantized kernels exist for CPUs only, so int8 on a GPU is a one-line error rather than a
silent fall-back to another precision.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
import weakref
from typing import TypeVar

import torch
from torch import nn

from bioner.errors import BionerError
from bioner.models.base import Runtime
from bioner.models.device import resolve_device

M = TypeVar("M")
"""Any model: :func:`with_precision` returns the one it was given."""

INT8 = "int8"
PRECISIONS = ("auto", "bf16", "fp32", INT8)
"""Every inference precision a runtime may name."""

_quantized: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], nn.Module]] = weakref.WeakKeyDictionary()
"""Each float model's int8 copy with the weights' versions it was made from; dropped with the model."""


def check_int8_device(device: torch.device) -> None:
    """int8 kernels are CPU kernels: any other device is a one-line error."""
    if device.type != "cpu":
        raise BionerError(f"precision int8 runs on the CPU only (asked for on {device.type}); use bf16 or fp32")


def quantizable_linears(module: nn.Module) -> list[str]:
    """Names of the linear layers inside the backbone's transformer layers (not the head, not a pooler)."""
    return [
        name
        for name, child in module.named_modules()
        if isinstance(child, nn.Linear) and name.startswith("backbone.") and ".layer." in name
    ]


def int8_model(module: nn.Module) -> nn.Module:
    """The per-channel int8 copy of ``module``, reused until its weights change; ``module`` itself is untouched."""
    versions = tuple(p._version for p in module.parameters())  # bumped by every in-place update (optimizer steps)
    cached = _quantized.get(module)
    if cached is not None and cached[0] == versions:
        return cached[1]
    names = quantizable_linears(module)
    if not names:
        raise BionerError("precision int8: the model has no transformer linear layers to quantize")
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    source = copy.deepcopy(module).cpu().float().eval()
    with warnings.catch_warnings():  # torch.ao's notice that eager-mode quantization moves to torchao
        warnings.simplefilter("ignore")
        quantized: nn.Module = quantize_dynamic(  # type: ignore[no-untyped-call]
            source, dict.fromkeys(names, per_channel_dynamic_qconfig), dtype=torch.qint8
        )
    _quantized[module] = (versions, quantized)
    return quantized


def with_precision(model: M, precision: str) -> M:
    """``model`` set to predict in ``precision``; a bad name or a backend without a runtime is a one-line error."""
    if precision not in PRECISIONS:
        raise BionerError(f"--precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    runtime = getattr(model, "runtime", None)
    if not isinstance(runtime, Runtime):
        raise BionerError(f"--precision: the {type(model).__name__} model has no precision to set")
    if precision == INT8:
        check_int8_device(resolve_device(runtime.device))
    setattr(model, "runtime", dataclasses.replace(runtime, precision=precision))  # noqa: B010 (any backend's runtime)
    return model


GATE_POINTS = 0.3
"""How far int8's strict F1 may fall below the bf16 path's on the same model and documents (F1 points)."""


def accuracy_gate(bf16_f1: float, int8_f1: float, points: float = GATE_POINTS) -> dict[str, float | bool]:
    """Whether int8 keeps the model's accuracy: strict F1 (0-1) within ``points`` F1 points of bf16's, or better."""
    return {"bf16_f1": bf16_f1, "int8_f1": int8_f1, "passed": int8_f1 >= bf16_f1 - points / 100}
