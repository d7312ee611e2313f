"""``bioner convert``: between any two formats, saying what was tolerated and what could not be kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from bioner.cli.app import app
from bioner.cli.evaluate import reader_options
from bioner.errors import BionerError, Report
from bioner.formats import FORMATS, check_options, guess_format, read_documents, write_documents
from bioner.types import Document

_NAMES = ", ".join(sorted(FORMATS))


@app.command()
def convert(
    source: Annotated[
        Path, typer.Argument(metavar="SOURCE", help="Input file (a folder for BRAT).", show_default=False)
    ],
    target: Annotated[
        Path, typer.Argument(metavar="TARGET", help="Output file (a folder for BRAT).", show_default=False)
    ],
    from_format: Annotated[
        str | None, typer.Option("--from", help=f"Input format ({_NAMES}); default: from the file name.")
    ] = None,
    to_format: Annotated[
        str | None, typer.Option("--to", help=f"Output format ({_NAMES}); default: from the file name.")
    ] = None,
    annotations: Annotated[
        Path | None, typer.Option("--annotations", help="tsv input: the GenoVarDis annotation table.")
    ] = None,
    out_annotations: Annotated[
        Path | None, typer.Option("--out-annotations", help="tsv output: where to write the annotation table.")
    ] = None,
    scheme: Annotated[str | None, typer.Option("--scheme", help="conll output: tag scheme, IOB2 or IOBES.")] = None,
    realign: Annotated[
        bool, typer.Option("--realign", help="pubtator input: move mentions whose offsets are a few characters off.")
    ] = False,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help="Reader option KEY=VALUE (repeatable), e.g. discontinuous=cover, multi=cover, skip_bad_lines=true.",
        ),
    ] = None,
    out_option: Annotated[
        list[str] | None,
        typer.Option("--out-option", help="Writer option KEY=VALUE (repeatable), e.g. docstart=true, mark=false."),
    ] = None,
) -> None:
    """Convert documents between formats; prints what the output format could not hold."""
    fmt_in = from_format or guess_format(source)
    fmt_out = to_format or guess_format(target)
    for fmt in (fmt_in, fmt_out):
        if fmt not in FORMATS:
            raise BionerError(f"unknown format {fmt!r}; known formats: {_NAMES}")
    read_options = _options(fmt_in, "tsv", "--annotations", annotations=annotations)
    read_options.update(_options(fmt_in, "pubtator", "--realign", realign=realign or None))
    write_options = _options(fmt_out, "tsv", "--out-annotations", annotations=out_annotations)
    write_options.update(_options(fmt_out, "conll", "--scheme", scheme=scheme))
    read_options.update(reader_options(option))
    write_options.update(reader_options(out_option))
    check_options(fmt_in, "read", read_options, "--option")
    check_options(fmt_out, "write", write_options, "--out-option")
    report = Report()
    counts = [0, 0]
    docs = read_documents(source, fmt_in, report, **read_options)
    report.merge(write_documents(_counted(docs, counts), target, fmt_out, **write_options))
    for line in report.lines():
        typer.echo(line, err=True)
    typer.echo(f"converted {counts[0]} documents, {counts[1]} entities", err=True)


def _options(fmt: str, applies_to: str, flag: str, **values: Any) -> dict[str, Any]:
    """The options that are set, refusing one given for a format it does not apply to."""
    given = {k: v for k, v in values.items() if v is not None}
    if given and fmt != applies_to:
        raise BionerError(f"{flag} applies to {applies_to} only, not {fmt}")
    return given


def _counted(docs: Iterable[Document], counts: list[int]) -> Iterator[Document]:
    for doc in docs:
        counts[0] += 1
        counts[1] += len(doc.entities)
        yield doc
