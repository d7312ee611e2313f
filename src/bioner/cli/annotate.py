"""``bioner annotate MODEL [TEXT] [--file F] [--out OUT.jsonl]``: tag a text and show its entities in colour.

The quick look at a model: the text with every predicted mention highlighted by label,
a table of the mentions with their character offsets and scores, and optionally the
document as canonical JSONL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bioner.cli.app import app
from bioner.errors import BionerError
from bioner.progress import output_console
from bioner.types import Document

PALETTE: tuple[str, ...] = (
    *("bold black on yellow", "bold white on blue", "bold black on green", "bold white on magenta"),
    *("bold black on cyan", "bold white on red", "bold black on bright_white", "bold white on dark_orange"),
)


@app.command()
def annotate(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained model folder (bioner train --output).")],
    text: Annotated[str | None, typer.Argument(metavar="TEXT", help="The text to tag.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the text from this file instead.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the tagged document as JSONL.")] = None,
) -> None:
    """Tag one text and print it with its entities highlighted."""
    from bioner.formats import write_documents
    from bioner.formats.common import read_text
    from bioner.models.registry import load_model

    if (text is None) == (file is None):
        raise BionerError("give the text either as an argument or with --file, not both or neither")
    content = read_text(file).strip() if file is not None else (text or "")
    if not content.strip():
        raise BionerError("the text to annotate is empty")
    doc_id = file.stem if file is not None else "text"
    [tagged] = load_model(model).predict([Document(doc_id, content)])
    console = output_console()
    console.print(highlighted(tagged))
    console.print(mention_table(tagged))
    if out is not None:
        write_documents([tagged], out, "jsonl")
        console.print(f"wrote {out}", highlight=False)


def label_styles(labels: list[str]) -> dict[str, str]:
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(sorted(labels))}


def highlighted(doc: Document) -> Text:
    """The text with each entity styled by label (nested ones layered over their parent)."""
    styles = label_styles(sorted(doc.labels()))
    shown = Text(doc.text)
    for e in doc.entities:
        shown.stylize(styles[e.label], e.start, e.end)
    legend = Text("  ".join(f"{label}" for label in styles))
    for label, style in styles.items():
        legend.highlight_words([label], style)
    return Text.assemble(shown, "\n\n", legend) if styles else shown


def mention_table(doc: Document) -> Table:
    table = Table(title=f"{len(doc.entities)} mentions")
    for column in ("start", "end", "label", "text", "score"):
        table.add_column(column, justify="right" if column in {"start", "end", "score"} else "left")
    for e in doc.entities:
        score = f"{e.score:.3f}" if e.score is not None else ""
        table.add_row(str(e.start), str(e.end), e.label, e.text, score)
    return table
