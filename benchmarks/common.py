"""What the benchmark scripts share: running ``bioner`` steps with a log, and naming the machine.

Benchmarks run bioner as users do (``bioner train`` then ``bioner test --json``) in subprocesses,
so a crash in one step leaves the finished ones on disk and a rerun resumes.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from bioner.models.segments import Segment

ROOT = Path(__file__).resolve().parents[1]
BIONER = [sys.executable, "-m", "bioner"]


def run(command: list[str], log: Path) -> float:
    """Run a step, appending its output to ``log``; its wall time in seconds."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    return time.perf_counter() - started


def train_once(config: str, model: Path, overrides: list[str], log: Path) -> None:
    """``bioner train`` into ``model`` unless it finished there; resumes from its checkpoint if one is left."""
    if (model / "train_seconds.txt").exists():
        return
    resume = ["--resume"] if (model / "checkpoint.safetensors").exists() else []
    settings = [part for s in overrides for part in ("--set", s)]
    seconds = run([*BIONER, "train", config, "--output", str(model), *settings, *resume], log)
    (model / "train_seconds.txt").write_text(f"{seconds:.1f}\n")


def test_once(model: Path, corpus: str, name: str = "test") -> dict[str, Any]:
    """``bioner test --json`` of ``model`` on ``corpus``'s test split, kept as ``<name>.json`` in the model folder."""
    result_file = model / f"{name}.json"
    if not result_file.exists():
        test = subprocess.run(
            [*BIONER, "test", str(model), "--corpus", corpus, "--split", "test", "--json", "-q"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result_file.write_text(test.stdout)
    report: dict[str, Any] = json.loads(result_file.read_text())
    return report


def summary(report: dict[str, Any], model: Path) -> dict[str, Any]:
    """Strict and partial F1, strict F1 by gold length, and the training time of one tested model."""
    return {
        "strict_f1": report["overall"]["strict"]["f1"],
        "partial_f1": report["overall"]["partial"]["f1"],
        "by_length_strict_f1": {b: s["strict"]["f1"] for b, s in report["by_length"].items()},
        "by_length_partial_f1": {b: s["partial"]["f1"] for b, s in report["by_length"].items()},
        "train_seconds": float((model / "train_seconds.txt").read_text()),
        "test_docs_per_s": report.get("timing", {}).get("docs_per_s"),
    }


def machine() -> str:
    """The GPU's name when there is one, else the CPU core count."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)}, {os.cpu_count()} CPU cores"
    except ImportError:
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores, CPU only"


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so the clock reads the work done and not the work launched."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], Any], device: torch.device) -> tuple[float, Any]:
    """Seconds one call of ``run`` takes on ``device`` (synchronized before and after), and its result."""
    synchronize(device)
    started = time.perf_counter()
    result = run()
    synchronize(device)
    return time.perf_counter() - started, result


def interleaved_medians(
    runs: dict[str, Callable[[], Any]], repeats: int, device: torch.device
) -> dict[str, tuple[float, list[float], Any]]:
    """Per run: the median of ``repeats`` :func:`timed` calls, every time measured, and the last result.

    Each run is called once untimed on the same input first (kernels for every shape it meets are made
    then, not in its first timed call), and the timed calls go round-robin, one of each run per round,
    so a change in the machine's load between rounds hits every run alike and spares their ratios.
    """
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            seconds, results[name] = timed(run, device)
            times[name].append(seconds)
    return {name: (statistics.median(times[name]), times[name], results[name]) for name in runs}


def median_seconds(run: Callable[[], Any], repeats: int, device: torch.device) -> tuple[float, list[float], Any]:
    """Median of ``repeats`` :func:`timed` calls, every time measured, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        seconds, result = timed(run, device)
        times.append(seconds)
    return statistics.median(times), times, result


def environment(device: torch.device) -> dict[str, Any]:
    """What a speed benchmark ran on: the accelerator (or CPU), torch threads and library versions."""
    import torch
    import transformers

    info: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    if device.type == "cuda":
        info["cuda"] = torch.version.cuda
        info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(device).total_memory / 2**30)
    return info


def device_batches(
    segments: Sequence[Segment], pad: int, batch_size: int, device: torch.device
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The batches ``score_segments`` makes (length-sorted, dynamically padded), already on ``device``."""
    from bioner.models.segments import collate

    order = sorted(range(len(segments)), key=lambda i: len(segments[i].input_ids))
    batches = []
    for start in range(0, len(order), batch_size):
        batch = collate([segments[i] for i in order[start : start + batch_size]], pad)
        batches.append((batch["input_ids"].to(device), batch["attention_mask"].to(device)))
    return batches
