"""The typer application and its command groups; verbs register themselves on import."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bioner",
    help="Biomedical named entity recognition with exact character offsets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
corpus_app = typer.Typer(help="Named corpora: list them, describe their splits.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
