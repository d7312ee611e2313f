"""The typer application and its command groups; verbs register themselves on import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import bioner

app = typer.Typer(
    name="bioner",
    help="Biomedical named entity recognition with exact character offsets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: no "<bool>" after flags, no "[dbr]" taken for markup
)
corpus_app = typer.Typer(help="Named corpora: list them, describe their splits.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", metavar="DIR", help="Folder of corpora (default: BIONER_DATA or bioner.toml)."),
]
"""``--data-dir`` of the commands that read named corpora."""


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"bioner {bioner.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Biomedical named entity recognition with exact character offsets."""
