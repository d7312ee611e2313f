"""Plain text as documents: one per line of a ``.txt`` file, or one per ``.txt`` file of a folder.

The reader every entry point shares (``bioner predict``, the Python API, the server) for input
that is not in one of the annotation formats.
"""

from __future__ import annotations

from pathlib import Path

from bioner.errors import BionerError, InputError, Report
from bioner.formats.common import read_text
from bioner.types import Document

TEXT = "text"
"""Plain text input: one document per line, or per ``.txt`` file in a folder."""


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
