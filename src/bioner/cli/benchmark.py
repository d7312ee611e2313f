"""``bioner benchmark CONFIG [--output DIR]``: train and compare a matrix of systems × corpora × seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bioner.cli.app import app
from bioner.errors import Report


@app.command()
def benchmark(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="A benchmark file (configs/benchmarks/*.toml).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder of the runs and results (default: runs/benchmarks/NAME)."),
    ] = None,
    corpus: Annotated[
        list[str] | None,
        typer.Option("--corpus", "-c", help="Only this corpus of the benchmark (repeatable); default: all."),
    ] = None,
    system: Annotated[
        list[str] | None,
        typer.Option("--system", "-s", help="Only this system (repeatable); without the reference, no comparisons."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Train every system on every corpus and seed (reusing finished runs), test them all on the same splits
    with the same scorer, and write Markdown tables, results.json and plots.

    Run it again after an interruption: finished cells are reused and an interrupted training resumes.
    --corpus and --system run part of the matrix (in parallel processes, say) into the same output;
    the full command afterwards reuses those cells.
    """
    from bioner.training.benchmark import load_benchmark, markdown_table, run_benchmark, select

    whole = load_benchmark(config)
    target = output if output is not None else Path("runs") / "benchmarks" / whole.name
    bench = select(whole, corpus or (), system or ())
    report = Report()
    cells = run_benchmark(bench, target, progress=not quiet, report=report)
    err = Console(stderr=True, quiet=quiet)
    for line in report.lines():
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    for split in bench.splits:
        typer.echo(f"{split}:\n{markdown_table(bench, cells, split)}")
    typer.echo(f"results, tables and plots in {target}")
