"""Which device a run uses and whether it computes in bfloat16."""

from __future__ import annotations

from contextlib import AbstractContextManager

import torch

from bioner.errors import BionerError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` is the first GPU when there is one, else the CPU; a missing GPU is a one-line error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise BionerError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BionerError(f"device {name!r} asked for, but no CUDA GPU is available")
    return device


def use_bf16(precision: str, device: torch.device) -> bool:
    """bf16 autocast in training: always when asked for, on a GPU by default (CPU training stays fp32)."""
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def inference_bf16(precision: str, device: torch.device) -> bool:
    """bf16 autocast in inference: as in training, and by default also on a CPU with native bf16.

    On a CPU with AVX512-BF16 or AMX, oneDNN runs bf16 matrix products about twice as fast
    as fp32; measured on the quickstart model the test F1 did not move (BENCHMARKS.md).
    """
    if precision != "auto" or device.type != "cpu":
        return use_bf16(precision, device)
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())  # type: ignore[no-untyped-call]


def autocast(device: torch.device, enabled: bool) -> AbstractContextManager[object]:
    """Mixed precision for the forward pass; master weights and the optimizer stay in fp32."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)
