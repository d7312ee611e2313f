"""``bioner corpus list``, ``stats`` and ``export``: what the named corpora hold, and a split as a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bioner import corpora
from bioner.cli.app import DataDirOption, corpus_app
from bioner.errors import Report
from bioner.progress import output_console
from bioner.stats import LENGTH_BUCKETS, corpus_stats


@corpus_app.command("list")
def list_corpora() -> None:
    """List the named corpora with their language and entity types."""
    table = Table(title="Named corpora", title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("language")
    table.add_column("labels", overflow="fold")
    table.add_column("description")
    for name, spec in sorted(corpora.CORPORA.items()):
        table.add_row(name, spec.language, ", ".join(spec.labels), spec.description)
    output_console().print(table)


@corpus_app.command("stats")
def stats(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Corpus name, as `bioner corpus list` shows it.")],
    split: Annotated[
        list[str] | None,
        typer.Option("--split", "-s", metavar="SPLIT", help="Split to describe (repeatable); default: all."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON, nothing else.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", metavar="DIR", help="Write PNG plots (unique entities, type correlation) here."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Documents, sentences, tokens and mentions per split: label counts, lengths, nesting."""
    report = Report()  # unknown corpus names and splits are one-line errors from load_corpus
    corpus = corpora.load_corpus(name, splits=split or None, data_dir=data_dir, report=report)
    result = corpus_stats(corpus, split)
    for line in report.lines():
        typer.echo(line, err=True)
    written: list[Path] = []
    if plot is not None:
        from bioner.plots import write_plots  # matplotlib is slow to import; only load it when asked

        written = write_plots(corpus, result, plot)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        for path in written:
            typer.echo(f"wrote {path}", err=True)
        return
    out = output_console()
    out.print(_overview_table(result))
    for split_name, counts in result["splits"].items():
        out.print(_label_table(result["corpus"], split_name, counts))
    out.print("unique: distinct surface forms (case-sensitive); n tok: length in tokens", style="dim")
    for note in result["notes"]:
        typer.echo(f"note: {note}")
    for path in written:
        typer.echo(f"wrote {path}")


@corpus_app.command("export")
def export(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Corpus name, as `bioner corpus list` shows it.")],
    split: Annotated[str, typer.Argument(metavar="SPLIT", help="train, dev or test.")],
    output: Annotated[Path, typer.Argument(metavar="OUT", help="File to write (format from its name).")],
    to: Annotated[str | None, typer.Option("--to", "-t", help="Output format; default: from OUT's name.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write one split of a named corpus, as bioner reads it, to a file in any format (gold for `bioner compare`)."""
    from bioner.formats import write_documents

    report = Report()
    corpus = corpora.load_corpus(name, splits=[split], data_dir=data_dir, report=report)
    docs = list(corpus.splits[split])
    report.merge(write_documents(docs, output, to))
    for line in report.lines():
        typer.echo(line, err=True)
    typer.echo(f"wrote {len(docs)} documents, {sum(len(d.entities) for d in docs)} entities to {output}", err=True)


_OVERVIEW = (
    ("documents", "documents"),
    ("sentences", "sentences"),
    ("tokens", "tokens"),
    ("tokens per document, mean", "doc_tokens_mean"),
    ("tokens per document, max", "doc_tokens_max"),
    ("mentions", "mentions_total"),
    ("nested mentions", "nested"),
    ("overlapping (crossing) mentions", "overlapping"),
)


def _overview_table(result: dict[str, Any]) -> Table:
    """The sizes of every split side by side."""
    table = Table(title=f"{result['corpus']}: splits", title_justify="left")
    table.add_column("", no_wrap=True)
    for split in result["splits"]:
        table.add_column(split, justify="right")
    for heading, key in _OVERVIEW:
        table.add_row(heading, *(_number(counts[key]) for counts in result["splits"].values()))
    return table


def _label_table(corpus: str, split: str, counts: dict[str, Any]) -> Table:
    """One split: mentions, unique surface forms and lengths in tokens per label, and a total row."""
    table = Table(title=f"{corpus} {split}: mentions by label", title_justify="left")
    table.add_column("label", overflow="fold")
    for column in ("mentions", "unique", *(f"{b} tok" for b in LENGTH_BUCKETS)):
        table.add_column(column, justify="right")
    for label, n in counts["mentions"].items():
        lengths = counts["length_buckets_by_label"][label]
        table.add_row(
            label, f"{n:,}", f"{counts['unique_mentions'][label]:,}", *(f"{lengths[b]:,}" for b in LENGTH_BUCKETS)
        )
    table.add_row(
        "all",
        f"{counts['mentions_total']:,}",
        "",
        *(f"{counts['length_buckets'][b]:,}" for b in LENGTH_BUCKETS),
        style="bold",
    )
    return table


def _number(value: float) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
