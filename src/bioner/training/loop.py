"""The training loop every backend shares: AdamW, warm-up and linear decay, early stopping, resume.

A backend hands over a :class:`~bioner.models.base.TrainingTask` (its module, its examples,
how to batch them, its loss) and the recipe says how to score the dev set and how to save the
model; the loop does the rest. After every epoch it scores the dev set (strict F1), saves the model when it is
the best so far, writes the learning curves and then an atomic checkpoint, so a run
killed at any point resumes with ``resume=True`` and loses no finished epoch. Batches
come from a generator seeded by (seed, epoch), and the checkpoint holds the torch RNG
state, so a resumed run continues exactly as an uninterrupted one would have.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from bioner.errors import BionerError
from bioner.models.base import TrainingTask
from bioner.models.device import autocast, resolve_device, use_bf16
from bioner.progress import progress_bar
from bioner.training.checkpoint import checkpoint_state, load_checkpoint, save_checkpoint
from bioner.training.config import Config
from bioner.training.curves import plot_learning_curve, write_history

CHECKPOINT_FILE = "checkpoint.safetensors"
RESUMABLE_KEYS = frozenset(
    {
        "train.epochs",
        "train.patience",
        "train.max_steps",
        "train.max_minutes",
        "train.eval_batch_size",
        "train.device",
        "train.precision",
    }
)
"""Config keys a resumed run may change; any other change would make the checkpoint meaningless."""

_BUCKET_BATCHES = 50
"""Batches per shuffled bucket: examples of similar length are batched together to save padding."""


@dataclass
class TrainResult:
    output: Path
    epochs: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_dev: dict[str, float] | None = None
    stopped: str = ""
    """Why the run ended: ``epochs``, ``early stopping``, ``max_steps`` or ``max_minutes``."""

    def summary(self) -> dict[str, Any]:
        return {
            "best_epoch": self.best_epoch,
            "best_dev": self.best_dev,
            "stopped": self.stopped,
            "epochs": self.epochs,
        }


def fit(
    task: TrainingTask,
    config: Config,
    output: str | Path,
    *,
    evaluate: Callable[[], Mapping[str, float] | None],
    save_best: Callable[[], object],
    requested: Mapping[str, Any] | None = None,
    resume: bool = False,
    progress: bool = False,
    console: Console | None = None,
) -> TrainResult:
    """Train ``task.module`` as ``config.train`` says, writing everything under ``output``.

    ``evaluate`` gives the dev scores (``precision``, ``recall``, ``f1``, strict) or None without a
    dev set; ``save_best`` saves the model when they are the best so far. ``requested`` (the config
    before the backend resolved it) is kept in the checkpoint, so a resume can be checked before
    any weight is loaded.
    """
    cfg = config.train
    out = Path(output)
    checkpoint = check_output(out, resume)
    out.mkdir(parents=True, exist_ok=True)
    if not task.examples:
        raise BionerError("no training examples: the training split is empty")
    console = console or Console(stderr=True, quiet=not progress)

    device = resolve_device(cfg.device)
    bf16 = use_bf16(cfg.precision, device)
    module = task.module.to(device)
    batches_per_epoch = math.ceil(len(task.examples) / cfg.batch_size)
    steps_per_epoch = math.ceil(batches_per_epoch / cfg.grad_accumulation)
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    groups = parameter_groups(
        module, cfg.weight_decay, cfg.learning_rate, cfg.layer_decay, cfg.head_learning_rate, task.backbone
    )
    optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate)
    averaged = _averaged_model(module, cfg.ema) if cfg.ema else None
    warmup = int(cfg.warmup_ratio * total_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_then(cfg.schedule, warmup, total_steps))

    result = TrainResult(output=out)
    state: dict[str, Any] = {"epoch": 0, "step": 0, "bad_epochs": 0, "best_f1": None, "config": config.to_dict()}
    if requested is not None:
        state["requested"] = dict(requested)
    if resume:
        check_resumable(checkpoint_state(checkpoint).get("config", {}), config.to_dict())  # before any weight is loaded
        state = load_checkpoint(checkpoint, module, optimizer, scheduler, averaged)
        state["config"] = config.to_dict()
        if requested is not None:
            state["requested"] = dict(requested)
        result.epochs = state["epochs"]
        result.best_epoch, result.best_dev = state["best_epoch"], state["best_dev"]
        console.print(
            f"resuming after epoch {state['epoch']} (optimizer step {state['step']})", highlight=False, soft_wrap=True
        )

    deadline = time.monotonic() + cfg.max_minutes * 60 if cfg.max_minutes else None
    bar = progress_bar(console, unit="batch", enabled=progress)
    with bar:
        batch_task = bar.add_task("epoch", total=batches_per_epoch, info="")
        first_epoch = state["epoch"] + 1
        for epoch in range(first_epoch, cfg.epochs + 1):
            if cfg.max_steps and state["step"] >= cfg.max_steps:
                result.stopped = "max_steps"
                break
            if cfg.patience and state["bad_epochs"] >= cfg.patience:
                result.stopped = "early stopping"
                break
            if deadline is not None and epoch > first_epoch and time.monotonic() >= deadline:
                result.stopped = "max_minutes"  # checked from the second epoch: every run saves a model
                break
            started = time.perf_counter()
            bar.reset(batch_task, total=batches_per_epoch, description=f"epoch {epoch}/{cfg.epochs}", info="")
            module.train()
            losses: list[float] = []
            batches = _bucketed_batches(task.lengths, cfg.batch_size, cfg.seed, epoch)
            for i, indices in enumerate(batches):
                batch = {k: v.to(device) for k, v in task.collate([task.examples[j] for j in indices]).items()}
                with autocast(device, bf16):
                    loss = task.loss(batch)
                (loss / cfg.grad_accumulation).backward()  # type: ignore[no-untyped-call]
                losses.append(float(loss.detach()))
                if (i + 1) % cfg.grad_accumulation == 0 or i + 1 == len(batches):
                    if cfg.max_grad_norm > 0:
                        torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    if averaged is not None:
                        averaged.update_parameters(module)
                    state["step"] += 1
                bar.update(batch_task, advance=1, info=f"loss {sum(losses) / len(losses):.4f}")
                if cfg.max_steps and state["step"] >= cfg.max_steps:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
            module.eval()
            with _weights_of(module, averaged):
                dev = evaluate()
            record: dict[str, Any] = {
                "epoch": epoch,
                "step": state["step"],
                "train_loss": sum(losses) / len(losses),
                "learning_rate": scheduler.get_last_lr()[0],
                "dev_precision": dev["precision"] if dev else None,
                "dev_recall": dev["recall"] if dev else None,
                "dev_f1": dev["f1"] if dev else None,
                "seconds": round(time.perf_counter() - started, 3),
            }
            improved = dev is None or state["best_f1"] is None or dev["f1"] > state["best_f1"]
            if improved:
                with _weights_of(module, averaged):
                    save_best()
                state["best_f1"] = dev["f1"] if dev else None
                state["bad_epochs"] = 0
                result.best_epoch, result.best_dev = epoch, dict(dev) if dev else None
            else:
                state["bad_epochs"] += 1
            result.epochs.append(record)
            state["epoch"] = epoch
            console.print(_epoch_line(record, cfg.epochs, improved), highlight=False, soft_wrap=True)
            _write_run_files(result, out, config)
            state.update(epochs=result.epochs, best_epoch=result.best_epoch, best_dev=result.best_dev)
            save_checkpoint(checkpoint, module, optimizer, scheduler, state, averaged)
    if not result.stopped:
        result.stopped = _why_stopped(state, cfg, deadline)
    _write_run_files(result, out, config)
    return result


def check_output(output: Path, resume: bool) -> Path:
    """The checkpoint path, once sure a fresh run overwrites no checkpoint and a resumed one has one."""
    checkpoint = output / CHECKPOINT_FILE
    if checkpoint.exists() and not resume:
        raise BionerError(f"{output} holds a training checkpoint; continue it with --resume or choose another --output")
    if resume and not checkpoint.exists():
        raise BionerError(f"{output}: no {CHECKPOINT_FILE} to resume from")
    return checkpoint


def _why_stopped(state: Mapping[str, Any], cfg: Any, deadline: float | None) -> str:
    if cfg.max_steps and state["step"] >= cfg.max_steps:
        return "max_steps"
    if state["epoch"] >= cfg.epochs:  # every epoch ran: a budget that ran out afterwards cut nothing
        return "epochs"
    if deadline is not None and time.monotonic() >= deadline:
        return "max_minutes"
    if cfg.patience and state["bad_epochs"] >= cfg.patience:
        return "early stopping"
    return "epochs"


def _write_run_files(result: TrainResult, out: Path, config: Config) -> None:
    write_history(result.summary(), out)
    if result.epochs:
        title = config.data.corpus or Path(config.data.train or "").name
        model = getattr(config.model, "backbone", config.model.backend)
        plot_learning_curve(result.epochs, out, title=f"{model} on {title}")


def _epoch_line(record: Mapping[str, Any], epochs: int, improved: bool) -> str:
    line = f"epoch {record['epoch']}/{epochs}  loss {record['train_loss']:.4f}"
    if record["dev_f1"] is not None:
        line += f"  dev P {record['dev_precision']:.4f} R {record['dev_recall']:.4f} F1 {record['dev_f1']:.4f}"
    line += f"  {record['seconds']:.1f} s"
    return line + ("  (best, saved)" if improved else "")


def check_resumable(saved: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    changed = sorted(
        f"{section}.{key}"
        for section in set(saved) | set(current)
        for key in set(saved.get(section, {})) | set(current.get(section, {}))
        if saved.get(section, {}).get(key) != current.get(section, {}).get(key)
    )
    blocked = [key for key in changed if key not in RESUMABLE_KEYS]
    if blocked:
        raise BionerError(
            f"cannot resume: the config differs from the checkpoint's in {', '.join(blocked)} "
            f"(a resumed run may change only {', '.join(sorted(RESUMABLE_KEYS))})"
        )


def parameter_groups(
    module: torch.nn.Module,
    weight_decay: float,
    learning_rate: float,
    layer_decay: float = 1.0,
    head_learning_rate: float = 0.0,
    backbone: str = "backbone.",
) -> list[dict[str, Any]]:
    """Weight decay on weight matrices only (biases and normalisation weights are not decayed), with
    ``layer_decay`` < 1 a lower rate the deeper a parameter sits (:func:`layer_depth`), and the head (what
    sits on top) at ``head_learning_rate`` when one is given."""
    named = [(name, param) for name, param in module.named_parameters() if param.requires_grad]
    depths = {name: layer_depth(name, backbone) for name, _ in named}
    top = max((d for d in depths.values() if d is not None), default=-1) + 1
    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for name, param in named:
        depth = depths[name]
        depth = top if depth is None else depth
        decayed = param.dim() >= 2
        group = groups.setdefault(
            (depth, decayed),
            {
                "params": [],
                "weight_decay": weight_decay if decayed else 0.0,
                "lr": (head_learning_rate or learning_rate)
                if depth == top
                else learning_rate * layer_decay ** (top - depth),
            },
        )
        group["params"].append(param)
    return [groups[key] for key in sorted(groups)]


LAYER_NUMBER = re.compile(r"\.(?:layer|layers|h|block|blocks)\.(\d+)\.")


def layer_depth(name: str, backbone: str = "backbone.") -> int | None:
    """0 for the embeddings of the backbone (the module under ``backbone``), ``k + 1`` for its ``k``-th layer,
    None for what sits on top (the head, a CRF, a pooler or final norm), whatever the architecture's names
    (BERT, Llama, GPT-2...)."""
    found = LAYER_NUMBER.search(f".{name}")
    if found:
        return int(found.group(1)) + 1
    if name.startswith(backbone) and "embed" in name:
        return 0
    return None


def _averaged_model(module: torch.nn.Module, decay: float) -> torch.optim.swa_utils.AveragedModel:
    """torch's EMA of the parameters (buffers such as position ids are fixed, and kept as they are)."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(module, multi_avg_fn=get_ema_multi_avg_fn(decay))  # type: ignore[no-untyped-call]


@contextmanager
def _weights_of(module: torch.nn.Module, averaged: torch.optim.swa_utils.AveragedModel | None) -> Iterator[None]:
    """The averaged parameters in ``module`` for the duration (nothing without averaging), then its own back."""
    if averaged is None:
        yield
        return
    pairs = list(zip(module.parameters(), averaged.module.parameters(), strict=True))
    with torch.no_grad():
        for own, mean in pairs:
            own.data, mean.data = mean.data, own.data
    try:
        yield
    finally:
        with torch.no_grad():
            for own, mean in pairs:
                own.data, mean.data = mean.data, own.data


def _warmup_then(schedule: str, warmup: int, total: int) -> Callable[[int], float]:
    """Linear warm-up, then linear decay to zero (``linear``) or the full rate (``constant``)."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if schedule == "constant":
            return 1.0
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def _bucketed_batches(lengths: Sequence[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar lengths, the same for a given (seed, epoch) wherever a run restarts."""
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    batches: list[list[int]] = []
    bucket = batch_size * _BUCKET_BATCHES
    for i in range(0, len(order), bucket):
        part = sorted(order[i : i + bucket], key=lambda j: lengths[j])
        batches.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
