"""``bioner kb build | stats | samples``: knowledge bases for VANER's dense entity samples (DBR)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bioner.cli.app import DataDirOption, app
from bioner.errors import BionerError, Report
from bioner.progress import output_console

kb_app = typer.Typer(help="Knowledge bases of entity names for dense-entity training (DBR).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")


def _print_stats(stats: dict[str, dict[str, int]], title: str) -> None:
    table = Table()  # the title on a line of its own: a table's title wraps at the table's width
    for column in ("type", "names", "mentions", "with id"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for type_, row in stats.items():
        table.add_row(type_, str(row["names"]), str(row["mentions"]), str(row["with_id"]))
    console = output_console()
    console.print(title, markup=False, highlight=False)
    console.print(table)


@kb_app.command("build")
def build(
    output: Annotated[Path, typer.Option("--output", "-o", help="Knowledge-base file to write (.tsv or .jsonl).")],
    corpus: Annotated[
        list[str] | None, typer.Option("--corpus", "-c", metavar="NAME", help="Named corpus (repeatable).")
    ] = None,
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", metavar="PATH", help="User knowledge base, TSV or JSONL (repeatable)."),
    ] = None,
    split: Annotated[
        list[str] | None,
        typer.Option("--split", "-s", metavar="SPLIT", help="Corpus split to take mentions from (default: train)."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Build a knowledge base from corpus training mentions (with concept ids) and user files; never test splits."""
    from bioner.knowledge.kb import build_kb

    if not corpus and not file:
        raise BionerError("nothing to build from: give --corpus NAME and/or --file PATH")
    report = Report()
    kb = build_kb(corpus or (), file or (), splits=split or ("train",), data_dir=data_dir, report=report)
    kb.check_no_test_leak(str(output))
    kb.save(output)
    for line in report.lines():
        typer.echo(line, err=True)
    _print_stats(kb.stats(), f"{output}: {len(kb)} names")


@kb_app.command("stats")
def stats(kb_file: Annotated[Path, typer.Argument(metavar="KB", help="Knowledge-base file (.tsv or .jsonl).")]) -> None:
    """Names, mentions and names with a concept identifier, per type."""
    from bioner.knowledge.kb import load_kb

    report = Report()
    kb = load_kb(kb_file, report)
    for line in report.lines():
        typer.echo(line, err=True)
    _print_stats(kb.stats(), f"{kb_file}: {len(kb)} names, {len(kb.synonyms())} concept ids")


@kb_app.command("samples")
def samples(
    config: Annotated[
        Path | None, typer.Argument(metavar="CONFIG", help="Training config (TOML) naming the data and [dbr].")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key, e.g. --set dbr=random --set data.train=x.jsonl."),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", help="How many dense samples to print.")] = 5,
) -> None:
    """Print dense samples (``dbr.mode`` retrieved unless set to random) built from the training split."""
    from bioner.knowledge.dense import dense_samples, training_kb
    from bioner.training.config import load_config
    from bioner.training.data import load_splits

    settings = load_config(config, overrides or ())
    dbr = settings.dbr if settings.dbr.mode != "off" else dataclasses.replace(settings.dbr, mode="retrieved")
    report = Report()
    train = load_splits(settings.data, ("train",), report)["train"]
    labels = list(settings.model.labels) or sorted({e.label for d in train for e in d.entities})
    kb = training_kb(train, dbr, report)
    for line in report.lines():
        typer.echo(line, err=True)
    found = dense_samples(train, labels, kb, dbr)
    typer.echo(f"{len(found)} dense samples ({dbr.mode}) from {len(train)} documents and {len(kb)} names")
    for sample in found[: max(count, 0)]:
        words, tags = sample.tagged_words()
        typer.echo(f"\n{sample.type}  (from {sample.source})")
        typer.echo("  " + " ".join(w if t == "O" else f"{w}/{t[0]}" for w, t in zip(words, tags, strict=True)))
