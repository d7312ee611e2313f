"""``bioner annotate-corpus MODEL INPUT OUTPUT``: tag a folder or glob of files into a folder of shards.

Resumable exactly once: a killed run rerun with the same command skips the shards already
written and redoes the rest (see :mod:`bioner.annotate`); ``--engine ray`` runs the same
work on a local Ray or on a cluster (``--address``). Guide: docs/annotate-corpus.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bioner.cli.app import app
from bioner.cli.predict import parse_label_list
from bioner.errors import BionerError


@app.command("annotate-corpus")
def annotate_corpus(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained model folder (bioner train --output).")],
    source: Annotated[str, typer.Argument(metavar="INPUT", help="A folder (read recursively), a glob or a file.")],
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", help="Folder of output shards (made if missing).")],
    engine: Annotated[str, typer.Option("--engine", help="local (one process) or ray.")] = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster to join ('auto', or host:port); default: a local Ray.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Ray model actors (default: one per GPU, else 2).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Documents per Ray batch and segments per forward pass.")
    ] = None,
    shard_size: Annotated[int, typer.Option("--shard-size", help="Documents per output shard.")] = 500,
    from_fmt: Annotated[
        str | None, typer.Option("--from", help="Input format, or 'text'; default: from each file's name.")
    ] = None,
    out_fmt: Annotated[str, typer.Option("--format", help="Shard format: jsonl, pubtator, bioc-xml, ...")] = "jsonl",
    labels: Annotated[
        str | None, typer.Option("--labels", help="Comma-separated labels to tag (span and generative models).")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Skip (and count) unreadable input files instead of stopping.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Tag every document of many files into shards; rerun the same command to resume a killed run."""
    from bioner.annotate.corpus import Summary, annotate_local, check_manifest, make_options, plan, write_summary
    from bioner.progress import output_console

    if engine not in ("local", "ray"):
        raise BionerError(f"--engine {engine}: choose local or ray")
    if engine == "local" and (address is not None or workers is not None):
        raise BionerError("--address and --workers need --engine ray")
    options = make_options(
        model, shard_size=shard_size, input_format=from_fmt, output_format=out_fmt, labels=parse_label_list(labels)
    )
    summary = Summary()
    files = plan(source, output, options, skip_bad=skip_bad, summary=summary)
    check_manifest(output, options)
    if engine == "ray":
        from bioner.annotate.on_ray import annotate_ray

        annotate_ray(
            files, output, options, summary, address=address, workers=workers, batch_size=batch_size, progress=not quiet
        )
    else:
        annotate_local(files, output, options, summary, batch_size=batch_size, progress=not quiet)
    write_summary(output, summary)
    err: Console = output_console(stderr=True)
    lines = summary.lines()
    for line in lines[1:]:
        err.print(line, markup=False, highlight=False)
    typer.echo(f"{lines[0]}; wrote {output}")
