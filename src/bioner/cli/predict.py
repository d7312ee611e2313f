"""``bioner predict MODEL IN OUT [--from FMT] [--to FMT]``: tag documents in any format, or plain text.

Plain text is read as one document per line (a ``.txt`` file, or ``--from text``) or
one document per file (a folder of ``.txt`` files). The output carries the predicted
entities with their scores, and ``OUT.timing.json`` the time each document took.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bioner.cli.app import app
from bioner.errors import BionerError, InputError, Report
from bioner.types import Document

TEXT = "text"
"""Plain text input: one document per line, or per ``.txt`` file in a folder."""


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained model folder (bioner train --output).")],
    source: Annotated[Path, typer.Argument(metavar="IN", help="Documents to tag: a file, or a folder.")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the tagged documents.")],
    from_fmt: Annotated[
        str | None, typer.Option("--from", help="Input format, or 'text'; default: from the name of IN.")
    ] = None,
    to_fmt: Annotated[str | None, typer.Option("--to", help="Output format; default: from the name of OUT.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Tag documents with a trained model; their own entities, if any, are replaced."""
    from bioner.formats import guess_format, write_documents
    from bioner.models import load_tagger, predict_timed
    from bioner.timing import write_sidecar

    err = Console(stderr=True, quiet=quiet)
    out_fmt = to_fmt or guess_format(target)
    report = Report()
    docs = read_input(source, from_fmt, report)
    tagger = load_tagger(model)
    predicted, timing = predict_timed(tagger, docs, report=report, progress=not quiet)
    losses = write_documents(predicted, target, out_fmt)
    write_sidecar(timing, target)
    for line in [*report.lines(), *losses.lines()]:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    mentions = sum(len(d.entities) for d in predicted)
    typer.echo(
        f"tagged {len(predicted)} documents: {mentions} entities, {timing.docs_per_s:.1f} docs/s, "
        f"{timing.tokens_per_s:.0f} tokens/s; wrote {target}"
    )


def read_input(path: Path, fmt: str | None, report: Report) -> list[Document]:
    """Documents from ``path``: plain text (by ``fmt``, a ``.txt`` name or a folder of ``.txt``) or a format."""
    from bioner.formats import read_documents

    if not path.exists():
        raise InputError(path, None, "no such file or folder")
    if fmt == TEXT or (fmt is None and _is_plain_text(path)):
        return read_text_documents(path, report)
    return list(read_documents(path, fmt, report))


def _is_plain_text(path: Path) -> bool:
    if path.is_dir():
        return any(path.glob("*.txt")) and not any(path.glob("*.ann"))
    return path.suffix.lower() == ".txt"


def read_text_documents(path: Path, report: Report) -> list[Document]:
    """One document per ``.txt`` file of a folder (id: the file name's stem), or per non-empty line of a file."""
    from bioner.formats.common import read_text

    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise InputError(path, None, "folder holds no .txt files")
        return [Document(id=f.stem, text=read_text(f, report)) for f in files]
    lines = read_text(path, report).split("\n")
    docs = [Document(id=f"{path.stem}:{n}", text=line) for n, line in enumerate(lines, start=1) if line.strip()]
    report.warn(f"{path.name}: blank lines skipped", sum(1 for line in lines[:-1] if not line.strip()))
    if not docs:
        raise BionerError(f"{path}: no text to tag")
    return docs
