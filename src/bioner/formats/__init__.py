"""File formats of the field, each a module with ``read`` and ``write``.

Every module offers ``read(path, report=None, **options) -> Iterator[Document]`` and
``write(docs, path, **options) -> Report``; the report of a write lists what the
format could not hold. Formats are looked up by name here so that commands and
corpora never import a format module directly.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from bioner.errors import BionerError, Report
from bioner.types import Document

FORMATS: dict[str, str] = {
    "jsonl": "bioner.formats.jsonl",
    "conll": "bioner.formats.conll",
    "pubtator": "bioner.formats.pubtator",
    "bioc-xml": "bioner.formats.bioc",
    "bioc-json": "bioner.formats.bioc",
    "brat": "bioner.formats.brat",
    "tsv": "bioner.formats.tsv",
}
"""Format name -> module. ``tsv`` is the GenoVarDis text + annotation table pair."""

_SUFFIXES = {
    ".jsonl": "jsonl",
    ".conll": "conll",
    ".iob": "conll",
    ".iob2": "conll",
    ".bio": "conll",
    ".pubtator": "pubtator",
    ".xml": "bioc-xml",
    ".json": "bioc-json",
    ".ann": "brat",
    ".tsv": "tsv",
}


def module(fmt: str) -> ModuleType:
    if fmt not in FORMATS:
        raise BionerError(f"unknown format {fmt!r}; known formats: {', '.join(sorted(FORMATS))}")
    return importlib.import_module(FORMATS[fmt])


def check_options(fmt: str, direction: str, options: dict[str, Any], flag: str) -> None:
    """Refuse, before any file is touched, an option the format's ``read`` or ``write`` does not take."""
    function = getattr(module(fmt), direction)
    parameters = inspect.signature(function).parameters
    known = [name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY and name != "flavour"]
    for key in options:
        if key not in known:
            takes = ", ".join(known) or "no options"
            raise BionerError(f"{flag} {key}: the {fmt} {direction.removesuffix('e')}er takes {takes}")


def _bioc_options(fmt: str, options: dict[str, Any]) -> dict[str, Any]:
    if fmt.startswith("bioc-"):
        options = {**options, "flavour": fmt.removeprefix("bioc-")}
    return options


def guess_format(path: str | Path) -> str:
    """The format a file name suggests (a folder is read as BRAT standoff)."""
    p = Path(path)
    if p.is_dir():
        return "brat"
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise BionerError(f"{p}: cannot tell the format from the file name; give it with --from/--to")
    if fmt == "tsv" and p.is_file() and not _has_pmid_header(p):
        return "conll"  # token<TAB>tag files (the MTL corpora) are named .tsv too
    return fmt


def _has_pmid_header(path: Path) -> bool:
    """Whether a ``.tsv`` file starts like a GenoVarDis table (``pmid<TAB>...``)."""
    with path.open("rb") as handle:
        return handle.read(16).removeprefix(b"\xef\xbb\xbf").startswith(b"pmid\t")


def read_documents(
    path: str | Path, fmt: str | None = None, report: Report | None = None, **options: Any
) -> Iterator[Document]:
    fmt = fmt or guess_format(path)
    reader: Iterator[Document] = module(fmt).read(path, report=report, **_bioc_options(fmt, options))
    return reader


def write_documents(docs: Iterable[Document], path: str | Path, fmt: str | None = None, **options: Any) -> Report:
    fmt = fmt or guess_format(path)
    report: Report = module(fmt).write(docs, path, **_bioc_options(fmt, options))
    return report
