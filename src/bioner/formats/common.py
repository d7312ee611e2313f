"""Helpers every format shares: tolerant text reading (BOM, CRLF), atomic writing, loss counting."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bioner.errors import InputError, Report
from bioner.files import atomic_path
from bioner.types import Entity


def read_text(
    path: str | Path, report: Report | None = None, *, keep_crlf: bool = False, allow_empty: bool = False
) -> str:
    """The whole file as text with ``\\n`` line ends.

    A UTF-8 BOM, CRLF and lone CR (old Mac) line ends are tolerated and counted; an empty, binary or
    non-UTF-8 file is an error naming the file (and the line of the bad byte).
    ``keep_crlf`` keeps line ends as they are, for formats whose offsets count them
    (BRAT ``.txt``); ``allow_empty`` accepts an empty file (an empty BRAT ``.ann``).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(p, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(p, None, "is a directory, expected a file") from None
    if not data.strip() and not allow_empty:
        raise InputError(p, None, "file is empty")
    if b"\x00" in data:
        raise InputError(p, data[: data.index(b"\x00")].count(b"\n") + 1, "binary data (NUL byte), not a text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(p, line, f"not valid UTF-8 (byte 0x{data[err.start]:02x})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
        if report is not None:
            report.warn(f"{p.name}: UTF-8 byte-order mark removed")
    if "\r\n" in text and not keep_crlf:
        if report is not None:
            report.warn(f"{p.name}: CRLF line ends read as LF", text.count("\r\n"))
        text = text.replace("\r\n", "\n")
    if "\r" in text and not keep_crlf:  # old Mac files end lines with a lone CR
        if report is not None:
            report.warn(f"{p.name}: lone CR line ends read as LF", text.count("\r"))
        text = text.replace("\r", "\n")
    return text


@contextmanager
def open_text(path: str | Path, report: Report | None = None) -> Iterator[list[str]]:
    """Lines of a text file (without line ends), read with :func:`read_text`."""
    yield read_text(path, report).split("\n")


@contextmanager
def open_write(path: str | Path) -> Iterator[TextIO]:
    """Write a text file atomically (:func:`bioner.files.atomic_path`): a crash never leaves half a file."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
        yield handle


def fragments_in_order(fragments: Sequence[str], text: str) -> bool:
    """Whether ``text`` is the fragments joined by any separators (``"stem ... cells"``, ``"Breast [...] Cancers"``).

    Tools write the text of a discontinuous mention in different ways (bconv, brat before 1.3);
    its offsets stay the truth, so such a text is read from the document, with a warning.
    """
    pattern = "(?:.*?)".join(re.escape(f) for f in fragments)
    return re.fullmatch(pattern, text, re.DOTALL) is not None


def count_lost_extras(report: Report, entities: Iterable[Entity], held: Collection[str] = ()) -> None:
    """Count entity scores and attributes (by key) that a format cannot hold."""
    for e in entities:
        report.lose("entity scores", e.score is not None)
        for key, _ in e.attrs:
            report.lose(f"entity attributes ({key})", key not in held)
