"""``bioner evaluate``: score predictions against gold, overall, per label and per mention length."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from bioner.cli.app import app
from bioner.errors import BionerError, Report
from bioner.evaluation.evaluate import EvalReport
from bioner.evaluation.evaluate import evaluate as evaluate_documents
from bioner.evaluation.report import UNPREDICTED
from bioner.formats import guess_format, read_documents
from bioner.timing import read_sidecar
from bioner.types import Document

FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Format of gold and predictions; default: from each file name, else JSONL."),
]
PredFormatOption = Annotated[
    str | None, typer.Option("--pred-format", help="Format of the predictions, when it differs from --format.")
]
ReaderOption = Annotated[
    list[str] | None,
    typer.Option("--option", help="Reader option KEY=VALUE for both files (repeatable), e.g. realign=true."),
]
LabelsOption = Annotated[
    str | None, typer.Option("--labels", help="Comma-separated labels to score; other mentions are left out.")
]
IdsOption = Annotated[
    bool, typer.Option("--ids", help="Score end to end with concept IDs: span, type and ID must all be right.")
]


@app.command()
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", "-g", help="Gold documents.")],
    pred: Annotated[Path, typer.Option("--pred", "-p", help="Predicted documents (same ids and texts).")],
    fmt: FormatOption = None,
    pred_fmt: PredFormatOption = None,
    option: ReaderOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown tables (the default).")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write PNG plots into this folder.")] = None,
    labels: LabelsOption = None,
    ids: IdsOption = False,
) -> None:
    """Strict, exact, partial and type scores (SemEval-2013) with per-label and per-length tables.

    Timing saved beside the predictions (<pred>.timing.json) is reported too; with --ids, the
    end-to-end mention + concept ID scores per label and the linking accuracy of right spans.
    """
    if as_json and markdown:
        raise BionerError("choose one of --json and --markdown")
    options = reader_options(option)
    gold_docs = read_side(gold, fmt, options, "gold")
    pred_docs = read_side(pred, pred_fmt or fmt, options, "predictions")
    report = evaluate_documents(gold_docs, pred_docs, parse_labels(labels), timing=read_sidecar(pred), ids=ids)
    if report.unpredicted:
        print(f"warning: {UNPREDICTED.lower()}: {report.unpredicted}", file=sys.stderr)
    written = [] if plot is None else _save_plots(report, plot)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(report.to_markdown(), nl=False)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)


def _save_plots(report: EvalReport, directory: Path) -> list[Path]:
    from bioner.evaluation.plots import save_plots  # matplotlib is slow to import; only load it when asked

    return save_plots(report, directory)


def read_side(path: Path, fmt: str | None, options: dict[str, Any], what: str) -> list[Document]:
    """All documents of one input, its reader's warnings and losses printed to stderr as ``<what>: ...``."""
    if fmt is None:
        try:
            fmt = guess_format(path)
        except BionerError:
            fmt = "jsonl"
    report = Report()
    try:
        docs = list(read_documents(path, fmt, report, **options))
    except TypeError as err:
        raise BionerError(f"{path}: reader option not understood by format {fmt}: {err}") from None
    for line in report.lines():
        print(f"{what}: {line}", file=sys.stderr)
    return docs


def reader_options(values: Iterable[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` strings as reader keyword arguments: true/false become booleans, integers integers."""
    options: dict[str, Any] = {}
    for item in values or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BionerError(f"reader option {item!r} is not KEY=VALUE")
        value: Any = raw
        if raw.lower() in {"true", "false"}:
            value = raw.lower() == "true"
        elif raw.lstrip("-").isdigit():
            value = int(raw)
        options[key.strip().replace("-", "_")] = value
    return options


def parse_labels(labels: str | None) -> list[str] | None:
    if labels is None:
        return None
    parsed = [x.strip() for x in labels.split(",") if x.strip()]
    if not parsed:
        raise BionerError("--labels names no label")
    return parsed
