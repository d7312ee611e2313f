"""int8 inference on a CPU: the encoder's linear layers with per-channel int8 weights, smoothed.

``precision = "int8"`` at prediction time replaces every ``nn.Linear`` inside the backbone's
transformer layers by torch's dynamically quantized linear layer (``torch.ao`` eager-mode
``quantize_dynamic`` with the per-channel weight observer): weights are int8 with one scale per
output channel, activations are quantized per batch as they arrive (one scale per tensor), and
the products run in fbgemm/oneDNN int8 kernels. One scale per tensor is what cost accuracy: a
few input channels of each layer carry activations tens of times larger than the rest, and the
rest are rounded to a handful of levels. SmoothQuant's migration (Xiao et al., 2023) evens them
out first: each input channel ``j`` of a layer is divided by ``s_j = max|X_j|^a / max|W_j|^(1-a)``
(relative to the median channel's, and never below 1) and the weight's column multiplied by it,
which leaves the product unchanged in exact arithmetic and moves the outliers into the weights,
where per-channel scales absorb them. Never amplifying a channel matters: a channel that was quiet
on the calibration windows and multiplied up would become the outlier the next time it fires (the
unclamped migration lost 4 F1 points on dev). ``max|X_j|`` comes
from a calibration: the largest activation each layer saw on a few training windows
(:func:`input_maxima`), computed by ``bioner train`` and kept in the model folder. The attention
output's division folds into the value projection (exact, as attention is linear in the values);
the other layers divide their input by a stored vector. The embeddings, layer norms, attention
scores and the tagging head stay in fp32. The quantized copy is made once per model and
calibration and kept beside it until the float weights change: they are never modified, and
training never sees it.

torch's quantized kernels exist for CPUs only, so int8 on a GPU is a one-line error rather than a
silent fall-back to another precision.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import torch
from torch import nn

from bioner.errors import BionerError
from bioner.models.base import Runtime
from bioner.models.device import resolve_device
from bioner.types import Document

M = TypeVar("M")
"""Any model: :func:`with_precision` returns the one it was given."""

INT8 = "int8"
PRECISIONS = ("auto", "bf16", "fp32", INT8)
"""Every inference precision a runtime may name."""

SMOOTHING = 0.75
"""SmoothQuant's migration strength ``a``: 0 leaves the activations as they are, 1 moves all of their range into the
weights. 0.75 was best of 0.5, 0.75 and 0.9 on NCBI-disease dev (BENCHMARKS.md)."""

CALIBRATION_WINDOWS = 128
"""How many windows of the training documents (in corpus order) the calibration runs over."""

Calibration = dict[str, torch.Tensor]
"""Per quantizable linear layer (by module name), the largest absolute input seen on each input channel."""

_quantized: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], Calibration, nn.Module]] = (
    weakref.WeakKeyDictionary()
)
"""Each float model's int8 copy with the weights' versions and the calibration it was made from; dropped with
the model."""


@runtime_checkable
class Int8Calibrated(Protocol):
    """A model whose int8 prediction smooths with activation maxima measured on documents (the encoder)."""

    def calibrate_int8(self, docs: Sequence[Document]) -> None:
        """Measure the maxima on the first windows of ``docs``; :meth:`save_int8_calibration` keeps them."""

    def save_int8_calibration(self, folder: str | Path) -> None:
        """The calibration written beside the model already saved in ``folder``."""


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


@torch.inference_mode()
def input_maxima(module: nn.Module, batches: Iterable[Mapping[str, torch.Tensor]]) -> Calibration:
    """Per quantizable layer and input channel, the largest ``|x|`` over the real (unpadded) sub-tokens of
    ``batches`` (collated segments), in fp32: the ``max|X_j|`` of the smoothing."""
    layers = dict(module.named_modules())
    maxima: Calibration = {}
    mask: list[torch.Tensor] = []

    def record(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...]], None]:
        def hook(_: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            seen = args[0].float()[mask[0]].abs().amax(dim=0)  # (real sub-tokens, channels) -> (channels,)
            maxima[name] = torch.maximum(maxima[name], seen) if name in maxima else seen

        return hook

    hooks = [layers[name].register_forward_pre_hook(record(name)) for name in quantizable_linears(module)]
    was_training = module.training
    module.eval()
    try:
        for batch in batches:
            mask[:] = [batch["attention_mask"].bool()]
            module(batch["input_ids"], batch["attention_mask"], batch["word_index"])
    finally:
        for handle in hooks:
            handle.remove()
        module.train(was_training)
    if not maxima:
        raise BionerError("int8 calibration: no windows to calibrate on")
    return maxima


class _Smoothed(nn.Module):
    """A linear layer whose input is first divided, channel by channel, by the smoothing scales."""

    inverse_scale: torch.Tensor

    def __init__(self, inverse_scale: torch.Tensor, linear: nn.Linear) -> None:
        super().__init__()
        self.register_buffer("inverse_scale", inverse_scale)
        self.linear = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear(x * self.inverse_scale)
        return out


@torch.no_grad()
def smoothed_copy(module: nn.Module, calibration: Calibration, alpha: float = SMOOTHING) -> tuple[nn.Module, list[str]]:
    """An fp32 copy of ``module`` with its quantizable layers smoothed, and the names of its linear layers to
    quantize; the copy computes what ``module`` does (up to float rounding)."""
    names = quantizable_linears(module)
    missing = sorted(set(names) - set(calibration))
    if missing:
        raise BionerError(f"int8 calibration does not match the model: no maxima for {missing[0]}")
    copied = copy.deepcopy(module).cpu().float().eval()
    layers = dict(copied.named_modules())
    targets = []
    for name in names:
        linear = layers[name]
        assert isinstance(linear, nn.Linear)
        weight_max = linear.weight.abs().amax(dim=0).clamp(min=1e-5)
        scale = (calibration[name].clamp(min=1e-5) ** alpha / weight_max ** (1 - alpha)).clamp(min=1e-5)
        scale = (scale / scale.median()).clamp(min=1.0)  # divide the loud channels only: never amplify a quiet one
        linear.weight.mul_(scale)
        value = (
            layers.get(name.removesuffix("output.dense") + "self.value")
            if name.endswith(".attention.output.dense")
            else None
        )
        if isinstance(value, nn.Linear):
            value.weight.div_(scale.unsqueeze(1))  # this layer's input is the values, mixed by attention
            if value.bias is not None:
                value.bias.div_(scale)
            targets.append(name)
        else:
            parent, _, leaf = name.rpartition(".")
            setattr(copied.get_submodule(parent), leaf, _Smoothed(1 / scale, linear))
            targets.append(f"{name}.linear")
    return copied, targets


def int8_model(module: nn.Module, calibration: Calibration | None) -> nn.Module:
    """The smoothed per-channel int8 copy of ``module``, reused until its weights or calibration change;
    ``module`` itself is untouched. Without a calibration, a one-line error says how to make one."""
    if not quantizable_linears(module):
        raise BionerError("precision int8: the model has no transformer linear layers to quantize")
    if calibration is None:
        raise BionerError(
            "precision int8: the model has no int8 calibration (bioner train writes it; for an older model run "
            "bioner calibrate MODEL)"
        )
    versions = tuple(p._version for p in module.parameters())  # bumped by every in-place update (optimizer steps)
    cached = _quantized.get(module)
    if cached is not None and cached[0] == versions and cached[1] is calibration:
        return cached[2]
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    source, targets = smoothed_copy(module, calibration)
    with warnings.catch_warnings():  # torch.ao's notice that eager-mode quantization moves to torchao
        warnings.simplefilter("ignore")
        quantized: nn.Module = quantize_dynamic(  # type: ignore[no-untyped-call]
            source, dict.fromkeys(targets, per_channel_dynamic_qconfig), dtype=torch.qint8
        )
    _quantized[module] = (versions, calibration, quantized)
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
