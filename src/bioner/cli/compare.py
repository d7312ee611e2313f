"""``bioner compare``: is one system's F1 really higher than another's on the same gold?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bioner.cli.app import app
from bioner.cli.evaluate import (
    FormatOption,
    IdsOption,
    LabelsOption,
    ReaderOption,
    parse_labels,
    read_side,
    reader_options,
)
from bioner.errors import BionerError
from bioner.evaluation.matching import SCHEMES
from bioner.evaluation.significance import compare as compare_systems


@app.command()
def compare(
    gold: Annotated[Path, typer.Option("--gold", "-g", help="Gold documents.")],
    pred: Annotated[list[Path], typer.Option("--pred", "-p", help="Predictions of system A, then of system B.")],
    fmt: FormatOption = None,
    option: ReaderOption = None,
    scheme: Annotated[str, typer.Option("--scheme", help=f"One of {', '.join(SCHEMES)}.")] = "strict",
    samples: Annotated[int, typer.Option("--samples", "-n", help="Bootstrap resamples and permutation trials.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same numbers.")] = 0,
    confidence: Annotated[float, typer.Option("--confidence", help="Level of the interval.")] = 0.95,
    labels: LabelsOption = None,
    ids: IdsOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Both systems' F1, the paired bootstrap interval of their difference and an approximate-randomization p-value.

    Documents are resampled whole; a document missing from a system's predictions counts as all missed.
    """
    if len(pred) != 2:
        raise BionerError(f"give exactly two --pred files (system A, then system B), got {len(pred)}")
    if scheme not in SCHEMES:
        raise BionerError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if ids and scheme != "strict":
        raise BionerError("--ids scores on exact spans and types (the strict matching): leave --scheme out")
    options = reader_options(option)
    gold_docs = read_side(gold, fmt, options, "gold")
    a = read_side(pred[0], fmt, options, "system A")
    b = read_side(pred[1], fmt, options, "system B")
    result = compare_systems(gold_docs, a, b, scheme, samples, seed, confidence, parse_labels(labels), ids)
    if as_json:
        typer.echo(json.dumps({"a": str(pred[0]), "b": str(pred[1]), **result.to_dict()}, indent=2))
        return
    level = f"{100 * confidence:g}%"
    typer.echo(f"{result.documents} documents, {result.scheme} F1, {samples} samples, seed {seed}")
    typer.echo(f"A  {100 * result.f1_a:6.2f}  {pred[0]}")
    typer.echo(f"B  {100 * result.f1_b:6.2f}  {pred[1]}")
    typer.echo(
        f"A - B = {100 * result.delta:+.2f} points, {level} paired bootstrap interval "
        f"[{100 * result.ci_low:+.2f}, {100 * result.ci_high:+.2f}]"
    )
    typer.echo(f"approximate randomization p = {result.p_value:.4f}")
