"""``bioner calibrate MODEL [--corpus NAME | --input FILE]``: int8 activation maxima for a saved encoder model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bioner.cli.app import app
from bioner.errors import BionerError, Report


@app.command()
def calibrate(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained encoder model folder.")],
    corpus: Annotated[str | None, typer.Option("--corpus", "-c", help="Named corpus to calibrate on.")] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="Documents from a file instead of a corpus.")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--from", help="Format of --input; default: from its name.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Folder holding the corpora.")] = None,
) -> None:
    """Measure what --precision int8 smooths with on the first training windows, and save it in MODEL.

    bioner train does this itself; this is for models trained before it did. Without --corpus or
    --input, the training split of the model's own config is used, as bioner train would.
    """
    from bioner.models.quantize import Int8Calibrated
    from bioner.models.registry import load_model
    from bioner.training.config import DataConfig, model_config
    from bioner.training.data import load_splits

    if corpus is not None and input_file is not None:
        raise BionerError("choose one of --corpus and --input")
    if corpus is not None:
        data = DataConfig(corpus=corpus, data_dir=str(data_dir) if data_dir else None)
    elif input_file is not None:
        data = DataConfig(format=fmt, train=str(input_file))
    else:
        data = model_config(model).data
        if data.corpus is None and not data.mixture and data.train is None:
            raise BionerError(f"{model}: its config names no training data; use --corpus or --input")
    tagger = load_model(model)
    if not isinstance(tagger, Int8Calibrated):
        raise BionerError(f"{model}: int8 calibration is for encoder models, not the {tagger.settings.backend} backend")
    docs = load_splits(data, ("train",), Report())["train"]
    if not docs:
        raise BionerError("no documents to calibrate on")
    tagger.calibrate_int8(docs)
    tagger.save_int8_calibration(model)
    typer.echo(f"wrote the int8 calibration of {model} ({len(docs)} documents available, first windows used)")
