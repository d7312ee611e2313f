"""CoNLL / IOB column files: one ``token ... tag`` line per token, a blank line between sentences.

The token is the first column and the tag the last (columns split at tabs, or at spaces when a line
has no tab). ``-DOCSTART-`` lines, JNLPBA's ``###MEDLINE:<id>`` lines and bconv's ``# doc_id = <id>``
lines separate documents. The files
hold no character offsets, so a document's text is rebuilt as its tokens joined by single spaces
(sentences too), its sentence spans are kept in ``doc.sentences`` and ``doc.meta["tokenization"]`` is
``"whitespace"``, so that writing it back tokenizes it the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bioner.errors import BionerError, InputError, Report, excerpt
from bioner.formats.common import count_lost_extras, open_write, read_text
from bioner.schemes import SCHEMES
from bioner.text import document_sentences, tokenize, whitespace_tokenize
from bioner.types import Document, Entity, Span
from bioner.views import decode, encode, split_tag

DOCSTART = "-DOCSTART-"
MEDLINE = "###MEDLINE:"
DOC_PER = ("auto", "docstart", "sentence")
_HELD_META = frozenset({"tokenization"})
_DOC_ID = re.compile(r"^# doc_id = (?P<id>\S+)$")
"""The CoNLL-U style comment bconv writes before each document."""


@dataclass
class _Line:
    number: int
    token: str
    tag: str


@dataclass
class _Block:
    """The sentences between two document boundaries; ``name`` is a MEDLINE id when the boundary gave one."""

    name: str | None = None
    boundary: bool = False
    sentences: list[list[_Line]] = field(default_factory=list)


def read(
    path: str | Path,
    report: Report | None = None,
    *,
    scheme: str | None = None,
    doc_per: str = "auto",
    id_prefix: str | None = None,
) -> Iterator[Document]:
    """Documents of a CoNLL file.

    ``scheme`` is detected (IOBES when an ``E-`` or ``S-`` tag occurs) unless given. ``doc_per="auto"``
    makes one document per ``-DOCSTART-``/``###MEDLINE`` block when the file has such lines, else one
    per sentence. Ids are ``<id_prefix>-<n>`` (the file stem by default), or the MEDLINE id.
    """
    if doc_per not in DOC_PER:
        raise BionerError(f"unknown doc_per {doc_per!r}; expected one of {', '.join(DOC_PER)}")
    if scheme is not None and scheme not in SCHEMES:
        raise BionerError(f"unknown tag scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    report = report if report is not None else Report()
    blocks = _parse(path, read_text(path, report))
    lines = [line for block in blocks for sentence in block.sentences for line in sentence]
    scheme = _check_scheme(path, lines, scheme)
    for block in blocks:
        for sentence in block.sentences:
            _check_transitions(path, sentence, scheme, report)
    has_boundaries = any(block.boundary for block in blocks)
    prefix = Path(path).stem if id_prefix is None else id_prefix
    groups: list[tuple[str | None, list[list[_Line]]]]
    if doc_per == "sentence" or (doc_per == "auto" and not has_boundaries):
        groups = [(None, [sentence]) for block in blocks for sentence in block.sentences]
    else:
        groups = [(block.name, block.sentences) for block in blocks if block.boundary or block.sentences]
    seen: set[str] = set()
    for n, (name, sentences) in enumerate(groups, start=1):
        doc_id = name or f"{prefix}-{n}"
        if doc_id in seen:
            report.warn("duplicate document ids (both documents kept)", 1)
        seen.add(doc_id)
        yield _document(doc_id, sentences, scheme)


def _parse(path: str | Path, text: str) -> list[_Block]:
    blocks = [_Block()]
    sentence: list[_Line] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        doc_id = _DOC_ID.match(line)
        if line.startswith(MEDLINE) or line.split(maxsplit=1)[:1] == [DOCSTART] or doc_id:
            if sentence:
                blocks[-1].sentences.append(sentence)
                sentence = []
            name = line.removeprefix(MEDLINE).strip() if line.startswith(MEDLINE) else None
            name = doc_id["id"] if doc_id else name
            blocks.append(_Block(name or None, boundary=True))
            continue
        if not line:
            if sentence:
                blocks[-1].sentences.append(sentence)
                sentence = []
            continue
        columns = [c.strip() for c in raw.split("\t")] if "\t" in raw else line.split()
        if len(columns) < 2:
            raise InputError(path, number, f"line has one column ({excerpt(line)}); expected a token and a tag")
        token, tag = columns[0], columns[-1]
        if not token or any(c.isspace() for c in token):
            raise InputError(path, number, f"empty token or token with whitespace ({excerpt(token)})")
        try:
            split_tag(tag)
        except ValueError:
            raise InputError(path, number, f"malformed tag {excerpt(tag)} (expected O, B-X, I-X, E-X or S-X)") from None
        sentence.append(_Line(number, token, tag))
    if sentence:
        blocks[-1].sentences.append(sentence)
    return blocks


def _check_scheme(path: str | Path, lines: Sequence[_Line], scheme: str | None) -> str:
    iob2 = SCHEMES["IOB2"]
    first = next((line for line in lines if split_tag(line.tag)[0] not in {"O", *iob2.prefixes}), None)
    if scheme is None:
        return "IOB2" if first is None else "IOBES"
    if scheme == "IOB2" and first is not None:
        raise InputError(path, first.number, f"tag {excerpt(first.tag)} is not part of the IOB2 scheme")
    return scheme


def _check_transitions(path: str | Path, sentence: Sequence[_Line], scheme: str, report: Report) -> None:
    """``I-X`` continuing a mention of another type is an error; a mention opened by ``I-``/``E-`` is counted."""
    rules = SCHEMES[scheme]
    unclosed = f"{scheme} mentions not closed by {rules.last}- (read as ended)"
    open_label: str | None = None
    last_prefix = "O"
    for line in sentence:
        prefix, label = split_tag(line.tag)
        if prefix in rules.inside:
            if open_label is not None and open_label != label:
                raise InputError(
                    path, line.number, f"tag {excerpt(line.tag)} continues a mention of type {excerpt(open_label)}"
                )
            if open_label is None:
                report.warn("mentions opened by I- or E- (IOB1 style, read as starts)", 1)
        elif open_label is not None and not rules.ends(last_prefix):
            report.warn(unclosed, 1)
        open_label = label if prefix in rules.open_after else None
        last_prefix = prefix
    if open_label is not None and not rules.ends(last_prefix):
        report.warn(unclosed, 1)


def _document(doc_id: str, sentences: Sequence[Sequence[_Line]], scheme: str) -> Document:
    parts: list[str] = []
    position = 0
    token_spans: list[list[Span]] = []
    for sentence in sentences:
        tokens: list[Span] = []
        for line in sentence:
            if parts:
                parts.append(" ")
                position += 1
            tokens.append((position, position + len(line.token)))
            parts.append(line.token)
            position += len(line.token)
        token_spans.append(tokens)
    text = "".join(parts)
    entities: list[Entity] = []
    for sentence, tokens in zip(sentences, token_spans, strict=True):
        entities.extend(decode(tokens, [line.tag for line in sentence], text, scheme))
    return Document(
        doc_id,
        text,
        tuple(entities),
        sentences=tuple((tokens[0][0], tokens[-1][1]) for tokens in token_spans),
        meta={"tokenization": "whitespace"},
    )


def write(
    docs: Iterable[Document],
    path: str | Path,
    *,
    scheme: str = "IOB2",
    docstart: bool | None = None,
    id_prefix: str | None = None,
) -> Report:
    """Write documents as ``token<TAB>tag`` lines, counting all that CoNLL cannot hold.

    Documents read from CoNLL (``meta["tokenization"] == "whitespace"``) are split at whitespace,
    others with :func:`bioner.text.tokenize`; both are cut at entity boundaries. ``docstart=None``
    writes ``-DOCSTART-`` lines when some document is not exactly one sentence, so that reading the
    file back gives the same documents. Ids are not stored: ids other than ``<id_prefix>-<n>`` (what
    reading gives) are counted as lost.
    """
    if scheme not in SCHEMES:
        raise BionerError(f"unknown tag scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    report = Report()
    prefix = Path(path).stem if id_prefix is None else id_prefix
    rendered: list[list[list[tuple[str, str]]]] = []
    for n, doc in enumerate(docs, start=1):
        report.lose("document ids", doc.id != f"{prefix}-{n}")
        rendered.append(_render(doc, scheme, report))
    if docstart is None:
        docstart = any(len(sentences) != 1 for sentences in rendered)
    if not docstart:
        report.lose("documents of several sentences (read back as one per sentence)", sum(len(s) > 1 for s in rendered))
        report.lose("empty documents", sum(not s for s in rendered))
    with open_write(path) as out:
        for sentences in rendered:
            if docstart:
                out.write(f"{DOCSTART}\tO\n\n")
            for sentence in sentences:
                out.write("".join(f"{token}\t{tag}\n" for token, tag in sentence) + "\n")
    return report


def _render(doc: Document, scheme: str, report: Report) -> list[list[tuple[str, str]]]:
    """The (token, tag) sentences of one document, with its losses counted in ``report``."""
    whitespace = doc.meta.get("tokenization") == "whitespace"
    tokenizer = whitespace_tokenize if whitespace else tokenize
    regions = document_sentences(doc)
    inside = [e for e in doc.entities if any(s <= e.start and e.end <= t for s, t in regions)]
    report.lose("entities crossing a sentence boundary or outside every sentence", len(doc.entities) - len(inside))
    for e in doc.entities:
        if not e.label or any(c.isspace() for c in e.label):
            raise BionerError(f"document {doc.id!r}: label {e.label!r} cannot be written in a CoNLL tag")
    report.lose("entity ids", sum(e.id is not None for e in doc.entities))
    count_lost_extras(report, doc.entities)
    report.lose("passages", len(doc.passages))
    for key, value in doc.meta.items():
        report.lose(f"document metadata ({key})", key not in _HELD_META or value != "whitespace")
    target = doc if len(inside) == len(doc.entities) else doc.with_entities(inside)
    sentences: list[list[tuple[str, str]]] = []
    tokens: list[Span] = []
    spans: list[Span] = []
    for region in regions:
        view = encode(target, scheme, region, tokenizer, report)
        if not view.tokens:
            continue
        sentence = [(doc.text[s:e], tag) for (s, e), tag in zip(view.tokens, view.tags, strict=True)]
        for token, _ in sentence:
            if token == DOCSTART or token.startswith(MEDLINE):
                raise BionerError(f"document {doc.id!r}: token {token!r} would read back as a document boundary")
        sentences.append(sentence)
        tokens.extend(view.tokens)
        spans.append((view.tokens[0][0], view.tokens[-1][1]))
    if " ".join(doc.text[s:e] for s, e in tokens) != doc.text:
        report.lose("documents whose original spacing is not kept", 1)
    elif doc.sentences is not None and list(doc.sentences) != spans:
        report.lose("documents whose sentence spans are not kept", 1)
    return sentences
