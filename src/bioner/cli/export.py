"""``bioner export MODEL DIR --to transformers``: a trained model as a standard transformers folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bioner.cli.app import app
from bioner.errors import Report


@app.command()
def export(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained model folder (bioner train --output).")],
    target: Annotated[Path, typer.Argument(metavar="DIR", help="The folder to write.")],
    to: Annotated[str, typer.Option("--to", help="The layout to write: transformers.")] = "transformers",
) -> None:
    """Write an encoder model as an AutoModelForTokenClassification folder (id2label, safetensors, tokenizer)."""
    from bioner.models.export import export_model
    from bioner.models.registry import load_model

    report = Report()
    export_model(load_model(model), target, to, report)
    for line in report.lines():
        Console(stderr=True).print(line, markup=False, highlight=False, soft_wrap=True)
    typer.echo(f"wrote {target} ({to})")
