"""``bioner test MODEL [--corpus NAME --split test | --input FILE] [--json]``: score a model, with timing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bioner.cli.app import app
from bioner.errors import BionerError, Report


@app.command()
def test(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained model folder (bioner train --output).")],
    corpus: Annotated[str | None, typer.Option("--corpus", "-c", help="Named corpus to score on.")] = None,
    split: Annotated[str, typer.Option("--split", "-s", help="Split of the corpus: train, dev or test.")] = "test",
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="Gold documents from a file instead of a corpus.")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--from", help="Format of --input; default: from its name.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Folder holding the corpora.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Score only the first N documents.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    save: Annotated[Path | None, typer.Option("--save", help="Also write the predictions to this file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Predict a gold split and print strict/exact/partial/type scores with the time per document.

    Without --corpus or --input, the data of the model's own training config is used.
    """
    from bioner.evaluation.evaluate import evaluate
    from bioner.formats import write_documents
    from bioner.models.registry import load_model, predict_timed
    from bioner.timing import write_sidecar
    from bioner.training.card import record_test_scores
    from bioner.training.config import DataConfig, model_config
    from bioner.training.data import load_splits

    if split not in ("train", "dev", "test"):
        raise BionerError(f"unknown split {split!r}; splits are: train, dev, test")
    if corpus is not None and input_file is not None:
        raise BionerError("choose one of --corpus and --input")
    trained = model_config(model)
    if corpus is not None:
        data = DataConfig(corpus=corpus, data_dir=str(data_dir) if data_dir else None, limit=limit)
    elif input_file is not None:
        data = DataConfig(format=fmt, limit=limit)
        setattr(data, split, str(input_file))
    else:
        data = trained.data
        data.limit = limit
    report = Report()
    gold = load_splits(data, (split,), report)[split]
    if not gold:
        raise BionerError(f"no gold documents in the {split} split")
    tagger = load_model(model)
    predicted, timing = predict_timed(tagger, gold, report=report, progress=not quiet)
    labels = trained.model.labels
    result = evaluate(gold, predicted, labels=labels or None, timing=timing)
    if limit is None and data.corpus is not None and data.corpus == trained.data.corpus:
        strict = result.overall["strict"]
        scores = {"precision": strict.precision, "recall": strict.recall, "f1": strict.f1}
        record_test_scores(model, f"{data.corpus} {split}", scores)
    err = Console(stderr=True, quiet=quiet)
    for line in report.lines():
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    if save is not None:
        write_documents(predicted, save)
        write_sidecar(timing, save)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(result.to_markdown(), nl=False)
