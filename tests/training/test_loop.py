"""The shared training loop on a toy classifier: learning, early stopping, checkpoints, resume, curves."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from bioner.errors import BionerError
from bioner.models.base import TrainingTask
from bioner.training import checkpoint as checkpoint_module
from bioner.training.config import Config, apply_overrides
from bioner.training.loop import CHECKPOINT_FILE, TrainResult
from bioner.training.loop import fit as loop_fit

Example = tuple[torch.Tensor, int]


def _data(n: int, seed: int) -> list[Example]:
    """Points labelled by the sign of their first coordinate: easy to learn, not instantly."""
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(n, 4, generator=g)
    return [(x, int(x[0] > 0)) for x in xs]


TRAIN, DEV = _data(64, 1), _data(32, 2)


def _collate(batch: Sequence[Example]) -> dict[str, torch.Tensor]:
    return {"x": torch.stack([x for x, _ in batch]), "y": torch.tensor([y for _, y in batch])}


def _task(
    init_seed: int = 0,
    evaluate: Callable[[nn.Module], Mapping[str, float] | None] | None = None,
    saved: list[int] | None = None,
) -> _Run:
    torch.manual_seed(init_seed)
    module = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))

    def accuracy() -> Mapping[str, float] | None:
        if evaluate is not None:
            return evaluate(module)
        with torch.no_grad():
            batch = _collate(DEV)
            acc = float((module(batch["x"]).argmax(-1) == batch["y"]).float().mean())
        return {"precision": acc, "recall": acc, "f1": acc}

    task = TrainingTask(
        module=module,
        examples=TRAIN,
        lengths=[1] * len(TRAIN),
        collate=_collate,
        loss=lambda b: nn.functional.cross_entropy(module(b["x"]), b["y"]),
    )
    return _Run(task, accuracy, lambda: saved.append(len(saved)) if saved is not None else None)


@dataclass
class _Run:
    """A task with the recipe's two hooks: dev scoring and saving the best model."""

    task: TrainingTask
    evaluate: Callable[[], Mapping[str, float] | None]
    save_best: Callable[[], object]

    @property
    def module(self) -> nn.Module:
        return self.task.module


def fit(run: _Run, config: Config, output: Path, *, resume: bool = False) -> TrainResult:
    return loop_fit(run.task, config, output, evaluate=run.evaluate, save_best=run.save_best, resume=resume)


def _config(*overrides: str) -> Config:
    return apply_overrides(Config(), ["train.batch_size=8", "train.learning_rate=0.05", *overrides])


def _without_time(epochs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "seconds"} for e in epochs]


def test_training_lowers_the_loss_and_writes_history_and_curves(tmp_path: Path) -> None:
    result = fit(_task(), _config("train.epochs=6", "train.patience=0"), tmp_path)
    losses = [e["train_loss"] for e in result.epochs]
    assert len(losses) == 6 and losses[-1] < losses[0] * 0.7
    assert result.stopped == "epochs"
    history = json.loads((tmp_path / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3, 4, 5, 6]
    assert history["best_epoch"] == result.best_epoch and history["stopped"] == "epochs"
    assert {"train_loss", "dev_precision", "dev_recall", "dev_f1", "learning_rate", "step"} <= set(history["epochs"][0])
    assert (tmp_path / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert history["epochs"][-1]["learning_rate"] == 0.0  # linear decay ends at zero


def test_early_stopping_waits_patience_epochs_and_keeps_the_best(tmp_path: Path) -> None:
    scores = iter([0.5, 0.6, 0.55, 0.58, 0.9])
    saved: list[int] = []

    def scripted(_: nn.Module) -> Mapping[str, float]:
        f1 = next(scores)
        return {"precision": f1, "recall": f1, "f1": f1}

    result = fit(_task(evaluate=scripted, saved=saved), _config("train.epochs=5", "train.patience=2"), tmp_path)
    assert [e["epoch"] for e in result.epochs] == [1, 2, 3, 4]
    assert result.stopped == "early stopping"
    assert result.best_epoch == 2 and result.best_dev == {"precision": 0.6, "recall": 0.6, "f1": 0.6}
    assert len(saved) == 2  # saved after epochs 1 and 2 only


def test_without_a_dev_set_every_epoch_is_kept(tmp_path: Path) -> None:
    saved: list[int] = []
    result = fit(_task(evaluate=lambda _: None, saved=saved), _config("train.epochs=3"), tmp_path)
    assert result.best_epoch == 3 and result.best_dev is None and len(saved) == 3
    assert all(e["dev_f1"] is None for e in result.epochs)


def test_max_steps_and_accumulation_count_optimizer_steps(tmp_path: Path) -> None:
    # 64 examples / batch 8 = 8 batches an epoch; 4 batches a step -> 2 steps an epoch
    result = fit(_task(), _config("train.epochs=3", "train.grad_accumulation=4"), tmp_path / "a")
    assert [e["step"] for e in result.epochs] == [2, 4, 6]
    result = fit(_task(), _config("train.epochs=3", "train.max_steps=3"), tmp_path / "b")
    assert [e["step"] for e in result.epochs] == [3] and result.stopped == "max_steps"


def test_a_time_limit_stops_training(tmp_path: Path) -> None:
    result = fit(_task(), _config("train.epochs=50", "train.max_minutes=0.00001"), tmp_path)
    assert result.stopped == "max_minutes" and len(result.epochs) == 1


class _Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_exactly_where_it_stopped(tmp_path: Path) -> None:
    config = _config("train.epochs=3", "train.patience=0")
    full_task = _task()
    full = fit(full_task, config, tmp_path / "full")

    calls = {"n": 0}

    def crash_in_epoch_two(module: nn.Module) -> Mapping[str, float]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise _Interrupted  # killed after epoch 2's batches, before its checkpoint
        with torch.no_grad():
            batch = _collate(DEV)
            acc = float((module(batch["x"]).argmax(-1) == batch["y"]).float().mean())
        return {"precision": acc, "recall": acc, "f1": acc}

    with pytest.raises(_Interrupted):
        fit(_task(evaluate=crash_in_epoch_two), config, tmp_path / "cut")
    assert json.loads((tmp_path / "cut" / "history.json").read_text())["epochs"][-1]["epoch"] == 1

    # a fresh process would build the module anew (here: other initial weights); the checkpoint wins
    resumed_task = _task(init_seed=99)
    resumed = fit(resumed_task, config, tmp_path / "cut", resume=True)
    assert _without_time(resumed.epochs) == _without_time(full.epochs)
    assert resumed.best_epoch == full.best_epoch
    for a, b in zip(full_task.module.parameters(), resumed_task.module.parameters(), strict=True):
        assert torch.equal(a, b)


def test_resume_and_fresh_runs_guard_the_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match=r"no checkpoint\.safetensors to resume from"):
        fit(_task(), _config("train.epochs=1"), tmp_path, resume=True)
    fit(_task(), _config("train.epochs=1"), tmp_path)
    with pytest.raises(BionerError, match="holds a training checkpoint; continue it with --resume"):
        fit(_task(), _config("train.epochs=1"), tmp_path)
    with pytest.raises(BionerError, match=r"config differs from the checkpoint's in train\.learning_rate"):
        fit(_task(), _config("train.epochs=2", "train.learning_rate=0.1"), tmp_path, resume=True)
    more = fit(_task(), _config("train.epochs=2"), tmp_path, resume=True)  # more epochs is allowed
    assert [e["epoch"] for e in more.epochs] == [1, 2]


def test_a_crash_while_checkpointing_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: Any) -> None:
    fit(_task(), _config("train.epochs=1"), tmp_path)
    before = (tmp_path / CHECKPOINT_FILE).read_bytes()

    def broken_save(*args: Any, **kwargs: Any) -> Iterator[None]:
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module, "save_file", broken_save)
    with pytest.raises(BionerError, match=r"checkpoint\.safetensors: cannot write: disk full"):
        fit(_task(), _config("train.epochs=2"), tmp_path, resume=True)
    assert (tmp_path / CHECKPOINT_FILE).read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{CHECKPOINT_FILE}")]


def test_resume_with_a_changed_setting_is_refused_before_any_weight_is_loaded(tmp_path: Path, monkeypatch: Any) -> None:
    import bioner.training.loop as loop

    fit(_task(), _config("train.epochs=1"), tmp_path)

    def no_loading(*_: Any) -> None:
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(loop, "load_checkpoint", no_loading)
    with pytest.raises(BionerError, match=r"differs from the checkpoint's in train\.learning_rate"):
        fit(_task(), _config("train.epochs=2", "train.learning_rate=0.1"), tmp_path, resume=True)


def test_epoch_lines_are_not_wrapped_at_the_console_width(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    run = _task()
    console = Console(file=buffer, width=30)
    loop_fit(
        run.task, _config("train.epochs=1"), tmp_path, evaluate=run.evaluate, save_best=run.save_best, console=console
    )
    [line] = [line for line in buffer.getvalue().splitlines() if line.strip()]
    assert line.startswith("epoch 1/1  loss ") and line.endswith("(best, saved)")


def test_layer_decay_gives_deeper_layers_lower_rates_and_the_head_the_full_rate() -> None:
    from transformers import BertConfig, BertModel

    from bioner.models.head import BackboneTagger
    from bioner.training.loop import layer_depth, parameter_groups

    bert = BertModel(
        BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=8)
    )
    module = BackboneTagger(bert, 8, 3)
    assert layer_depth("backbone.embeddings.word_embeddings.weight") == 0
    assert layer_depth("backbone.encoder.layer.1.output.dense.weight") == 2
    assert layer_depth("head.linear.weight") is None
    assert layer_depth("model.layers.11.mlp.up_proj.weight") == 12  # Llama-style names
    rates = {}
    for group in parameter_groups(module, 0.01, 1e-3, layer_decay=0.5):
        for param in group["params"]:
            name = next(n for n, p in module.named_parameters() if p is param)
            rates[name] = group["lr"]
    assert rates["head.linear.weight"] == pytest.approx(1e-3)
    assert rates["backbone.encoder.layer.1.attention.self.query.weight"] == pytest.approx(1e-3 * 0.5)
    assert rates["backbone.encoder.layer.0.attention.self.query.weight"] == pytest.approx(1e-3 * 0.25)
    assert rates["backbone.embeddings.word_embeddings.weight"] == pytest.approx(1e-3 * 0.125)
    assert len(rates) == len(list(module.parameters()))
    flat = parameter_groups(module, 0.01, 1e-3)
    assert {g["lr"] for g in flat} == {1e-3}


def test_a_head_learning_rate_applies_to_the_head_only() -> None:
    from transformers import BertConfig, BertModel

    from bioner.models.head import BackboneTagger
    from bioner.training.loop import parameter_groups

    bert = BertModel(
        BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=8)
    )
    module = BackboneTagger(bert, 8, 3)
    rates = {}
    for group in parameter_groups(module, 0.01, 1e-4, layer_decay=0.5, head_learning_rate=3e-3):
        for param in group["params"]:
            rates[next(n for n, p in module.named_parameters() if p is param)] = group["lr"]
    assert rates["head.linear.weight"] == pytest.approx(3e-3)
    assert rates["head.linear.bias"] == pytest.approx(3e-3)
    assert rates["backbone.encoder.layer.1.attention.self.query.weight"] == pytest.approx(1e-4 * 0.5)
    assert rates["backbone.embeddings.word_embeddings.weight"] == pytest.approx(1e-4 * 0.125)


def test_a_negative_head_learning_rate_is_a_config_error() -> None:
    from bioner.training.config import load_config

    with pytest.raises(BionerError, match=r"train\.head_learning_rate must not be negative"):
        load_config(None, ["train.head_learning_rate=-1e-3"])


def test_with_ema_the_saved_and_scored_weights_are_the_averaged_ones(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    kept: list[dict[str, torch.Tensor]] = []
    scored: list[torch.Tensor] = []
    run = _task(evaluate=lambda m: scored.append(m[0].weight.detach().clone()) or None)  # type: ignore[func-returns-value, index]
    run = _Run(run.task, run.evaluate, lambda: kept.append({k: v.clone() for k, v in run.module.state_dict().items()}))
    fit(run, _config("train.epochs=2", "train.ema=0.9"), tmp_path)
    raw = run.module.state_dict()
    ema = {
        k.removeprefix("ema/module."): v
        for k, v in load_file(tmp_path / CHECKPOINT_FILE).items()
        if k.startswith("ema/module.")
    }
    assert set(ema) == set(raw)
    assert torch.equal(kept[-1]["0.weight"], ema["0.weight"]) and torch.equal(scored[-1], ema["0.weight"])
    assert not torch.equal(raw["0.weight"], ema["0.weight"])  # the training weights came back after saving
    # a resumed EMA run continues from the averaged weights of the checkpoint
    resumed = _task()
    fit(resumed, _config("train.epochs=3", "train.ema=0.9"), tmp_path, resume=True)
    with pytest.raises(BionerError, match="cannot resume"):
        fit(_task(), _config("train.epochs=4", "train.ema=0.5"), tmp_path, resume=True)
