"""``bioner train CONFIG --output DIR [--set key=value ...] [--resume]``: fine-tune a tagger from a TOML config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bioner.cli.app import app
from bioner.errors import Report


@app.command()
def train(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="TOML config (see configs/).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the model, checkpoint and curves.")],
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key, e.g. --set train.epochs=3 (repeatable)."),
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --output.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or per-epoch lines.")] = False,
) -> None:
    """Train a tagger; the best model on dev strict F1 is saved in --output with its resolved config."""
    from bioner.training.config import load_config
    from bioner.training.data import load_splits
    from bioner.training.loop import check_output
    from bioner.training.recipe import fit

    err = Console(stderr=True, quiet=quiet)
    settings = load_config(config, overrides or ())
    check_output(output, resume)  # before the slow part: reading data, loading the backbone
    report = Report()
    splits = load_splits(settings.data, ("train", "dev"), report)
    err.print(
        f"data: {len(splits['train'])} training and {len(splits['dev'])} dev documents"
        + (f" ({settings.data.corpus})" if settings.data.corpus else ""),
        highlight=False,
        soft_wrap=True,
    )
    _, result = fit(splits["train"], splits["dev"], settings, output, resume=resume, progress=not quiet, report=report)
    if result.stopped == "max_minutes":
        report.warn(
            f"train.max_minutes = {settings.train.max_minutes:g} cut training after epoch "
            f"{len(result.epochs)} of {settings.train.epochs}: the model depends on this machine's speed"
        )
    for line in report.lines():
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    best = result.best_dev
    score = "no dev set"
    if best:
        score = f"dev strict F1 {best['f1']:.4f} (P {best['precision']:.4f}, R {best['recall']:.4f})"
    typer.echo(f"best epoch {result.best_epoch} of {len(result.epochs)}: {score}; stopped by {result.stopped}")
    typer.echo(f"model saved to {output}")
