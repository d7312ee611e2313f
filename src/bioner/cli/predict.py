"""``bioner predict MODEL IN OUT [--from FMT] [--to FMT]``: tag documents in any format, or plain text.

Plain text is read as one document per line (a ``.txt`` file, or ``--from text``) or
one document per file (a folder of ``.txt`` files). The output carries the predicted
entities with their scores, and ``OUT.timing.json`` the time each document took. With
``--link INDEX`` (or a model saved with a ``[link]`` table) each mention gets a concept ID.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bioner.cli.app import app
from bioner.errors import BionerError, Report


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained model folder (bioner train --output).")],
    source: Annotated[Path, typer.Argument(metavar="IN", help="Documents to tag: a file, or a folder.")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the tagged documents.")],
    from_fmt: Annotated[
        str | None, typer.Option("--from", help="Input format, or 'text'; default: from the name of IN.")
    ] = None,
    to_fmt: Annotated[str | None, typer.Option("--to", help="Output format; default: from the name of OUT.")] = None,
    labels: Annotated[
        str | None,
        typer.Option("--labels", help="Comma-separated labels to tag (any, for span and generative models)."),
    ] = None,
    link: Annotated[
        Path | None,
        typer.Option("--link", metavar="INDEX", help="Link every mention to a concept ID with this link index."),
    ] = None,
    no_link: Annotated[bool, typer.Option("--no-link", help="Do not link, even if the model names an index.")] = False,
    nested: Annotated[
        bool, typer.Option("--nested", help="Keep nested spans (span models; default: flat, the best of overlaps).")
    ] = False,
    precision: Annotated[
        str | None,
        typer.Option("--precision", help="auto, bf16, fp32 or int8 (CPU: smoothed per-channel int8 linear layers)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Tag documents with a trained model; their own entities, if any, are replaced."""
    from bioner.api import model_linker
    from bioner.formats import guess_format, write_documents
    from bioner.formats.plain import read_input
    from bioner.models.quantize import with_precision
    from bioner.models.registry import load_model, predict_timed, read_model_config
    from bioner.timing import write_sidecar

    err = Console(stderr=True, quiet=quiet)
    out_fmt = to_fmt or guess_format(target)
    report = Report()
    docs = read_input(source, from_fmt, report)
    if link is not None and no_link:
        raise BionerError("choose one of --link and --no-link")
    tagger = load_model(model)
    if precision is not None:
        tagger = with_precision(tagger, precision)
    linker = model_linker(model, read_model_config(model), False if no_link else link)
    if nested:
        if not hasattr(tagger.settings, "nested"):
            raise BionerError(
                f"--nested: the {tagger.settings.backend} backend tags flat spans only (use a span model)"
            )
        tagger.settings = dataclasses.replace(tagger.settings, nested=True)  # type: ignore[call-arg]
    wanted = parse_label_list(labels)
    predicted, timing = predict_timed(tagger, docs, labels=wanted, report=report, progress=not quiet)
    if linker is not None:
        predicted = linker.link(predicted, report)
    losses = write_documents(predicted, target, out_fmt)
    write_sidecar(timing, target)
    for line in [*report.lines(), *losses.lines()]:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    mentions = sum(len(d.entities) for d in predicted)
    typer.echo(
        f"tagged {len(predicted)} documents: {mentions} entities, {timing.docs_per_s:.1f} docs/s, "
        f"{timing.tokens_per_s:.0f} tokens/s; wrote {target}"
    )


def parse_label_list(text: str | None) -> list[str] | None:
    """``"gene, disease"`` as ``["gene", "disease"]``; None or blanks only: the model's own labels."""
    if text is None:
        return None
    found = [label.strip() for label in text.split(",") if label.strip()]
    if not found:
        raise BionerError("--labels: give at least one label, e.g. --labels 'gene,disease'")
    return found
