"""Property tests: for every format, documents it can hold come back from write -> read unchanged.

Documents are generated in the shape each format holds (PubTator: title + abstract; CoNLL: tokens
joined by single spaces, sentences, flat entities; ...), with accents and nested entities where the
format allows them. For CoNLL, nested entities are added on purpose: what comes back must be exactly
the flattened set, and the write report must count exactly the dropped ones.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bioner.errors import Report
from bioner.formats import FORMATS, read_documents, write_documents
from bioner.types import Document, Entity, Passage, Span, make_attrs
from bioner.views import flatten

WORD = st.text(alphabet="abcxyzñáéüÁ0", min_size=1, max_size=5)
LABELS = st.sampled_from(["Gene", "Disease", "Chemical"])
IDS = st.one_of(st.none(), st.sampled_from(["D001943", "672", "MESH:D009369", "c|SUB|C|677|T"]))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def token_spans(words: list[str], start: int = 0) -> list[Span]:
    spans = []
    for w in words:
        spans.append((start, start + len(w)))
        start += len(w) + 1
    return spans


@st.composite
def token_entities(draw: st.DrawFn, text: str, tokens: list[Span], nested: bool) -> list[Entity]:
    """Entities on token boundaries: flat (non-overlapping) unless ``nested``."""
    entities: list[Entity] = []
    i = 0
    while i < len(tokens):
        length = draw(st.integers(0, 3))
        if length and i + length <= len(tokens):
            s, e = tokens[i][0], tokens[i + length - 1][1]
            entities.append(Entity(s, e, draw(LABELS), text[s:e], id=draw(IDS)))
            if nested and length > 1 and draw(st.booleans()):
                inner_end = tokens[i + draw(st.integers(0, length - 2))][1]
                entities.append(Entity(s, inner_end, draw(LABELS), text[s:inner_end]))
            i += length
        else:
            i += 1
    return entities


@st.composite
def char_entities(draw: st.DrawFn, text: str, max_entities: int = 5) -> list[Entity]:
    """Any spans, overlapping and nested included (standoff formats hold them all)."""
    entities = []
    for _ in range(draw(st.integers(0, max_entities if text else 0))):
        s = draw(st.integers(0, len(text) - 1))
        e = draw(st.integers(s + 1, len(text)))
        entities.append(Entity(s, e, draw(LABELS), text[s:e], id=draw(IDS)))
    return entities


def with_attr(entities: list[Entity], key: str, prefix: str, id_key: str | None = None) -> tuple[Entity, ...]:
    """Entities with the bookkeeping attributes a reader gives them (BRAT T and N ids, BioC ids...)."""
    out = []
    for n, e in enumerate(entities, start=1):
        attrs = {key: f"{prefix}{n}"}
        if id_key and e.id is not None:
            attrs[id_key] = f"N{n}"
        out.append(Entity(e.start, e.end, e.label, e.text, e.id, attrs=make_attrs(attrs)))
    return tuple(out)


@st.composite
def pubtator_docs(draw: st.DrawFn) -> list[Document]:
    docs = []
    for n in range(draw(st.integers(1, 3))):
        title = " ".join(draw(st.lists(WORD, min_size=1, max_size=6)))
        abstract = " ".join(draw(st.lists(WORD, min_size=0, max_size=8)))
        text = f"{title} {abstract}" if abstract else title
        passages = [Passage(0, title, "title")] + ([Passage(len(title) + 1, abstract, "abstract")] if abstract else [])
        relations = draw(st.lists(st.tuples(st.sampled_from(["CID", "Association"]), WORD, WORD), max_size=2))
        meta = {"relations": [list(r) for r in relations]} if relations else {}
        entities = draw(char_entities(text))
        docs.append(Document(str(1000 + n), text, tuple(entities), tuple(passages), meta=meta))
    return docs


@st.composite
def conll_docs(draw: st.DrawFn, nested: bool = False) -> list[Document]:
    docs = []
    for n in range(1, draw(st.integers(1, 3)) + 1):
        sentences = draw(st.lists(st.lists(WORD, min_size=1, max_size=6), min_size=1, max_size=3))
        words = [w for sentence in sentences for w in sentence]
        text = " ".join(words)
        tokens = token_spans(words)
        spans, entities, i = [], [], 0
        for sentence in sentences:
            sentence_tokens = tokens[i : i + len(sentence)]
            spans.append((sentence_tokens[0][0], sentence_tokens[-1][1]))
            entities.extend(draw(token_entities(text, sentence_tokens, nested)))
            i += len(sentence)
        entities = [Entity(e.start, e.end, e.label, e.text) for e in entities]  # CoNLL holds no ids
        meta = {"tokenization": "whitespace"}
        docs.append(Document(f"gen-{n}", text, tuple(entities), sentences=tuple(spans), meta=meta))
    return docs


@st.composite
def brat_docs(draw: st.DrawFn) -> list[Document]:
    docs = []
    for n in range(draw(st.integers(1, 3))):
        text = draw(st.text(alphabet="ab ñé\n\r.", max_size=30))
        entities = [e for e in draw(char_entities(text)) if e.id is None or " " not in e.id]
        docs.append(Document(f"doc{n}", text, with_attr(entities, "brat_id", "T", "brat_norm_id")))
    return docs


@st.composite
def bioc_docs(draw: st.DrawFn) -> list[Document]:
    docs = []
    for n in range(draw(st.integers(1, 3))):
        passages, text = [], ""
        for kind in draw(st.lists(st.sampled_from(["title", "abstract", ""]), min_size=1, max_size=3)):
            offset = len(text) + draw(st.integers(0, 2))
            body = draw(st.text(alphabet="ab <&>ñ\r\n", min_size=1, max_size=15))
            text = text + " " * (offset - len(text)) + body
            passages.append(Passage(offset, body, kind))
        relations = [{"id": "R1", "infons": {"type": "Association"}, "nodes": [{"refid": "1", "role": "a"}]}]
        meta = {"bioc_relations": relations} if draw(st.booleans()) else {}
        entities = with_attr(draw(char_entities(text)), "bioc_id", "")
        docs.append(Document(f"{n}", text, entities, tuple(passages), meta=meta))
    return docs


@st.composite
def tsv_docs(draw: st.DrawFn) -> list[Document]:
    docs = []
    for n in range(draw(st.integers(1, 3))):
        text = draw(st.text(alphabet="ab \"'ñé.", min_size=1, max_size=30))
        entities = [Entity(e.start, e.end, e.label, e.text) for e in draw(char_entities(text))]
        docs.append(Document(f"es-{n}.txt", text, with_attr(entities, "tsv_mark", "T"), meta={"pmid": str(100 + n)}))
    return docs


@st.composite
def jsonl_docs(draw: st.DrawFn, alphabet: str = "ab \nñé\t") -> list[Document]:
    text = draw(st.text(alphabet=alphabet, max_size=30))
    entities = draw(char_entities(text))
    scored = tuple(Entity(e.start, e.end, e.label, e.text, e.id, score=0.5) for e in entities)
    return [Document("j", text, scored, meta={"split": "train"})]


def round_trip(docs: list[Document], fmt: str, target: str, **options: Any) -> tuple[list[Document], Report]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / target
        report = write_documents(docs, path, fmt, **options)
        read_options = {k: v for k, v in options.items() if k == "annotations"}
        return list(read_documents(path, fmt, **read_options)), report


@SETTINGS
@given(pubtator_docs())
def test_pubtator_round_trip(docs: list[Document]) -> None:
    back, report = round_trip(docs, "pubtator", "x.pubtator")
    assert back == docs and not report


@SETTINGS
@given(conll_docs(), st.sampled_from(["IOB2", "IOBES"]))
def test_conll_round_trip(docs: list[Document], scheme: str) -> None:
    back, report = round_trip(docs, "conll", "gen.conll", scheme=scheme)
    assert back == docs and not report


@SETTINGS
@given(conll_docs(nested=True))
def test_conll_keeps_the_flattened_entities_and_counts_the_dropped_ones(docs: list[Document]) -> None:
    back, report = round_trip(docs, "conll", "gen.conll")
    kept = [flatten(d.entities) for d in docs]
    assert [d.entities for d in back] == [tuple(sorted(k, key=lambda e: (e.start, e.end, e.label))) for k, _ in kept]
    assert report.losses["nested or overlapping entities"] == sum(len(dropped) for _, dropped in kept)
    assert set(report.losses) <= {"nested or overlapping entities"}


@SETTINGS
@given(brat_docs())
def test_brat_round_trip(docs: list[Document]) -> None:
    back, report = round_trip(docs, "brat", "folder")
    assert back == docs and not report


@SETTINGS
@given(bioc_docs(), st.sampled_from(["bioc-xml", "bioc-json"]))
def test_bioc_round_trip(docs: list[Document], fmt: str) -> None:
    back, report = round_trip(docs, fmt, "x.bioc")
    assert back == docs and not report


@SETTINGS
@given(tsv_docs())
def test_tsv_round_trip(docs: list[Document]) -> None:
    back, report = round_trip(docs, "tsv", "text.tsv", annotations=str(Path(tempfile.gettempdir()) / "unused"))
    assert back == docs and not report


@SETTINGS
@given(jsonl_docs())
def test_jsonl_round_trip(docs: list[Document]) -> None:
    back, report = round_trip(docs, "jsonl", "x.jsonl")
    assert back == docs and not report


@SETTINGS
@given(jsonl_docs("ab \nñé.<"), st.sampled_from(sorted(FORMATS)))
def test_any_document_survives_read_write_read_in_every_format(docs: list[Document], fmt: str) -> None:
    """Whatever a format keeps of a document, writing what was read gives the same again."""
    target = "folder" if fmt == "brat" else "x.out"
    options: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "tsv":
            options["annotations"] = str(Path(tmp) / "ann.tsv")
        first, _ = round_trip_in(docs, fmt, Path(tmp) / target, options)
        second, report = round_trip_in(first, fmt, Path(tmp) / f"again-{target}", options)
    if fmt == "conll":  # ids are not stored in CoNLL; the reader names documents after the file
        second = [replace(b, id=a.id) for a, b in zip(first, second, strict=True)]
    assert second == first
    assert set(report.losses) <= {"document ids"}


def round_trip_in(docs: list[Document], fmt: str, path: Path, options: dict[str, Any]) -> tuple[list[Document], Report]:
    report = write_documents(docs, path, fmt, **options)
    read_options = {k: v for k, v in options.items() if k == "annotations"}
    return list(read_documents(path, fmt, **read_options)), report
