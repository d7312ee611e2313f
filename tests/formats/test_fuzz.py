"""Every reader on random bytes and on random structural mutations of the valid fixtures.

The property: a reader gives consistent documents (entities that match their text) or a
:class:`BionerError` naming the file, and never any other exception. The examples are
derandomized (the same in every run) and bounded, so the whole file takes seconds;
``BIONER_FUZZ_EXAMPLES=2000`` runs more of them.
"""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bioner.errors import BionerError, Report
from bioner.formats import read_documents, write_documents
from bioner.formats.plain import read_text_documents
from bioner.types import Document

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
FUZZ = settings(
    max_examples=int(os.environ.get("BIONER_FUZZ_EXAMPLES", "100")),
    deadline=2000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Reader = Callable[[Path, Report], list[Document]]


def _read(fmt: str, **options: Any) -> Reader:
    return lambda path, report: list(read_documents(path, fmt, report, **options))


def _tsv(path: Path, report: Report) -> list[Document]:
    return list(read_documents(path / "text.tsv", "tsv", report, annotations=path / "annotations.tsv"))


READERS: dict[str, tuple[Path, Reader]] = {
    "jsonl": (FIXTURES.parent / "encoder" / "train.jsonl", _read("jsonl")),
    "conll": (FIXTURES / "sample.conll", _read("conll")),
    "iobes": (FIXTURES / "sample.iobes", _read("conll")),
    "medline": (FIXTURES / "medline.iob2", _read("conll")),
    "pubtator": (FIXTURES / "sample.pubtator", _read("pubtator")),
    "pubtator-realign": (FIXTURES / "shifted.pubtator", _read("pubtator", realign=True)),
    "bioc-xml": (FIXTURES / "sample.bioc.xml", _read("bioc-xml", multi="cover")),
    "bioc-json": (FIXTURES / "sample.bioc.json", _read("bioc-json", multi="cover")),
    "brat": (FIXTURES / "brat" / "doc1.ann", _read("brat", discontinuous="fragments")),
    "tsv": (FIXTURES / "genovardis" / "annotations.tsv", _tsv),
    "tsv-text": (FIXTURES / "genovardis" / "text.tsv", _tsv),
    "text": (FIXTURES / "sample.pubtator", lambda path, report: read_text_documents(path, report)),
}
"""Reader name -> (the file whose bytes are fuzzed, how to read it)."""


@contextmanager
def _copy(name: str, data: bytes) -> Iterator[Path]:
    """A fresh folder holding the fixture's siblings with ``data`` in place of the fuzzed file; the path to read."""
    source, _ = READERS[name]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "input"
        shutil.copytree(source.parent, root)
        (root / source.name).write_bytes(data)
        yield root if name.startswith("tsv") else (root / source.name)


def _check(name: str, data: bytes) -> None:
    _, reader = READERS[name]
    with _copy(name, data) as path:
        try:
            docs = reader(path, Report())
        except BionerError as err:
            assert str(path.parent if path.is_file() else path) in str(err), f"error names no file: {err}"
            assert "\n" not in str(err)
            return
        for doc in docs:
            assert doc.problem() is None
            for e in doc.entities:
                assert doc.text[e.start : e.end] == e.text


def _mutate(original: bytes, data: st.DataObject) -> bytes:
    """A few structural edits: cut, repeat or move a slice, insert bytes, swap lines, change digits."""
    out = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["cut", "repeat", "insert", "swap", "digits", "crlf"]))
        n = len(out)
        i = data.draw(st.integers(0, n))
        j = data.draw(st.integers(i, min(n, i + 64)))
        if kind == "cut":
            del out[i:j]
        elif kind == "repeat":
            out[i:i] = out[i:j]
        elif kind == "insert":
            out[i:i] = data.draw(
                st.one_of(
                    st.binary(max_size=8),
                    st.sampled_from([b"\t", b"\n", b"\r", b"|", b"<", b">", b"{", b"}", b"[", b"]", b'"', b"\x00"]),
                    st.text(max_size=6).map(lambda t: t.encode("utf-8")),
                )
            )
        elif kind == "swap":
            lines = bytes(out).split(b"\n")
            a, b = data.draw(st.integers(0, len(lines) - 1)), data.draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            out = bytearray(b"\n".join(lines))
        elif kind == "digits":
            digits = [k for k, c in enumerate(out) if chr(c).isdigit()]
            if digits:
                k = data.draw(st.sampled_from(digits))
                out[k : k + 1] = data.draw(st.sampled_from([b"0", b"9", b"-1", b"99999999999999999", b"1.5", b""]))
        else:
            out = bytearray(bytes(out).replace(b"\n", data.draw(st.sampled_from([b"\r", b"\r\n", b"\n\n"]))))
    return bytes(out)


@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.binary(max_size=300))
def test_readers_on_random_bytes_give_documents_or_a_bioner_error(name: str, data: bytes) -> None:
    _check(name, data)


@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_readers_on_mutated_valid_files_give_documents_or_a_bioner_error(name: str, data: st.DataObject) -> None:
    source, _ = READERS[name]
    _check(name, _mutate(source.read_bytes(), data))


WRITERS = {"jsonl": "out.jsonl", "conll": "out.conll", "pubtator": "out.pubtator", "bioc-xml": "out.xml"}
WRITERS |= {"bioc-json": "out.json", "brat": "out-brat", "tsv": "out.tsv"}


@pytest.mark.parametrize("name", ["pubtator", "bioc-xml", "brat", "jsonl"])
@FUZZ
@given(data=st.data())
def test_what_writers_write_from_mutated_files_reads_back(name: str, data: st.DataObject) -> None:
    """Writers never write what cannot be read back: a write is a file that reads, or a BionerError."""
    source, reader = READERS[name]
    with _copy(name, _mutate(source.read_bytes(), data)) as path:
        try:
            docs = reader(path, Report())
        except BionerError:
            return
        for fmt, out_name in WRITERS.items():
            out = path.parent / "written" / out_name
            options: dict[str, Any] = {"annotations": out.with_name("ann.tsv")} if fmt == "tsv" else {}
            try:
                write_documents(docs, out, fmt, **options)
            except BionerError:
                continue
            if docs:
                list(read_documents(out, fmt, Report(), **options))
