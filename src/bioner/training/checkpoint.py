"""Resumable training state in one safetensors file, written atomically.

The file holds the model weights, the optimizer's moment tensors and the random
number generator state as tensors, and everything else (epoch, step, history,
early-stopping counters, the scheduler) as JSON in the safetensors metadata, so
no pickle is ever written or loaded. It is written to a temporary file and moved
into place, so a run killed while saving keeps the previous checkpoint intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from bioner.errors import BionerError
from bioner.files import atomic_path

_META_KEY = "bioner"


def save_checkpoint(
    path: str | Path,
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    state: dict[str, Any],
    averaged: torch.nn.Module | None = None,
) -> Path:
    """Write everything needed to continue training exactly where it stopped (``averaged``: the EMA weights)."""
    tensors: dict[str, torch.Tensor] = {}
    frozen = _frozen(module)  # a frozen base model (LoRA) is reloaded from its source, not copied each epoch
    for name, tensor in module.state_dict().items():
        if name not in frozen:
            tensors[f"model/{name}"] = tensor
    if averaged is not None:
        tensors.update({f"ema/{name}": tensor for name, tensor in averaged.state_dict().items()})
    optim = optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, values in optim["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{param_id}/{key}"] = value
            else:
                scalars.setdefault(str(param_id), {})[key] = value
    tensors["rng/torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, rng in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = rng
    meta = {
        "state": state,
        "optimizer": {"param_groups": optim["param_groups"], "scalars": scalars},
        "scheduler": scheduler.state_dict(),
    }
    target = Path(path)
    with atomic_path(target) as tmp:
        save_file(_unshared(tensors), str(tmp), metadata={_META_KEY: json.dumps(meta)})
    return target


def checkpoint_state(path: str | Path) -> dict[str, Any]:
    """The run state saved in a checkpoint, read from its header alone (no tensor is loaded)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            state: dict[str, Any] = json.loads((handle.metadata() or {})[_META_KEY])["state"]
    except (
        OSError,
        KeyError,
        ValueError,
        TypeError,
        SafetensorError,
    ) as err:  # safetensors raises its own (a ValueError kind)
        raise BionerError(f"{path}: not a readable bioner checkpoint ({err})") from None
    return state


def load_checkpoint(
    path: str | Path,
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    averaged: torch.nn.Module | None = None,
) -> dict[str, Any]:
    """Restore module, optimizer, scheduler, RNG (and the EMA weights) from ``path``; returns the saved run state."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})[_META_KEY])
        tensors = load_file(str(path))
    except (OSError, KeyError, ValueError, TypeError, SafetensorError) as err:
        raise BionerError(f"{path}: not a readable bioner checkpoint ({err})") from None
    device = next(module.parameters()).device
    weights = {k.removeprefix("model/"): v for k, v in tensors.items() if k.startswith("model/")}
    result = module.load_state_dict(weights, strict=False)
    missing = set(result.missing_keys) - _frozen(module)
    if missing or result.unexpected_keys:
        raise BionerError(f"{path}: the checkpoint does not fit the model ({len(missing)} weights missing)")
    if averaged is not None:
        ema = {k.removeprefix("ema/"): v for k, v in tensors.items() if k.startswith("ema/")}
        if not ema:
            raise BionerError(f"{path}: the checkpoint holds no averaged (EMA) weights")
        averaged.load_state_dict(ema)
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, param_id, name = key.split("/", 2)
            state.setdefault(int(param_id), {})[name] = value.to(device) if value.dim() else value
    for param_id, values in meta["optimizer"]["scalars"].items():
        state.setdefault(int(param_id), {}).update(values)
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
        for group in meta["optimizer"]["param_groups"]
    ]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    scheduler.load_state_dict(meta["scheduler"])
    torch.set_rng_state(tensors["rng/torch"])
    cuda_states = [tensors[f"rng/cuda/{i}"] for i in range(torch.cuda.device_count()) if f"rng/cuda/{i}" in tensors]
    if cuda_states:
        torch.cuda.set_rng_state_all(cuda_states)
    saved: dict[str, Any] = meta["state"]
    return saved


def _frozen(module: torch.nn.Module) -> set[str]:
    """Names of the parameters training does not change."""
    return {name for name, param in module.named_parameters(remove_duplicate=False) if not param.requires_grad}


def _unshared(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU, contiguous tensors, with copies where two names share memory (tied weights)."""
    seen: set[int] = set()
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        t = tensor.detach().to("cpu").contiguous()
        storage = t.untyped_storage().data_ptr()
        if storage in seen:
            t = t.clone()
        seen.add(storage)
        out[name] = t
    return out
