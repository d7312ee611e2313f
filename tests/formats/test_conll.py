from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError, InputError, Report
from bioner.formats import conll, pubtator
from bioner.types import Document, Entity, Passage, entity_at

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def read_all(path: Path, **options: Any) -> list[Document]:
    return list(conll.read(path, **options))


def spans(doc: Document) -> list[tuple[str, str]]:
    return [(e.text, e.label) for e in doc.entities]


def test_reads_docstart_blocks_with_sentences_and_non_ascii() -> None:
    docs = read_all(FIXTURES / "sample.conll")
    assert [d.id for d in docs] == ["sample-1", "sample-2"]
    first = docs[0]
    assert first.text == "La mutación c.35delG del gen GJB2 causa sordera neurosensorial . Es frecuente ."
    assert first.sentences == ((0, 64), (65, 79))
    assert spans(first) == [("c.35delG", "DNAMutation"), ("GJB2", "Gene"), ("sordera neurosensorial", "Disease")]
    assert first.meta == {"tokenization": "whitespace"}
    assert spans(docs[1]) == [("α-sinucleína", "Gene")]


def test_medline_lines_give_document_ids() -> None:
    docs = read_all(FIXTURES / "medline.iob2")
    assert [d.id for d in docs] == ["95369245", "95333264"]
    assert len(docs[0].sentences or ()) == 2
    assert spans(docs[0]) == [("IL-2 gene", "DNA"), ("T cells", "cell_type")]


def test_doc_per_sentence_and_id_prefix() -> None:
    docs = read_all(FIXTURES / "sample.conll", doc_per="sentence", id_prefix="s")
    assert [d.id for d in docs] == ["s-1", "s-2", "s-3"]
    assert docs[1].text == "Es frecuente ." and docs[1].sentences == ((0, 14),)


def test_without_boundaries_each_sentence_is_a_document_and_iobes_is_detected() -> None:
    docs = read_all(FIXTURES / "sample.iobes")
    assert [d.id for d in docs] == ["sample-1", "sample-2"]
    assert spans(docs[0]) == [("BRCA1", "Gene"), ("breast and ovarian cancer", "Disease")]
    assert spans(docs[1]) == [("TP53", "Gene")]


def test_conll2003_docstart_and_space_separated_columns(tmp_path: Path) -> None:
    path = tmp_path / "c03.txt"
    path.write_text("-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n", encoding="utf-8")
    (doc,) = read_all(path)
    assert doc.text == "EU rejects" and spans(doc) == [("EU", "ORG")]


def test_iob1_starts_are_read_as_starts_and_counted() -> None:
    report = Report()
    (doc,) = read_all(FIXTURES / "iob1.conll", report=report)
    assert spans(doc) == [("BRCA1", "Gene"), ("TP53", "Gene")]
    assert report.warnings["mentions opened by I- or E- (IOB1 style, read as starts)"] == 2


def test_crlf_and_bom_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "crlf.conll"
    data = (FIXTURES / "sample.conll").read_text(encoding="utf-8").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + data.encode("utf-8"))
    report = Report()
    docs = read_all(path, report=report, id_prefix="sample")
    assert docs == read_all(FIXTURES / "sample.conll")
    assert report.warnings["crlf.conll: UTF-8 byte-order mark removed"] == 1


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("BRCA1\tB-Gene\nmutation\n", 2, "line has one column"),
        ("breast\tB-Disease\ncancer\tI-Gene\n", 2, "tag 'I-Gene' continues a mention of type 'Disease'"),
        ("BRCA1\tB_Gene\n", 1, "malformed tag 'B_Gene'"),
        ("BRCA1\tX-Gene\n", 1, "malformed tag 'X-Gene'"),
        ("BRCA1\tB-\n", 1, "malformed tag 'B-'"),
        ("a\tO\n\n\tO\n", 3, "empty token"),
        ("a\tO\nb\tS-Gene\nc\tB-Gene\nd\tE-Disease\n", 4, "tag 'E-Disease' continues a mention of type 'Gene'"),
    ],
)
def test_bad_lines_are_errors_naming_file_and_line(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_all(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "file is empty"), ("\n\n", "file is empty"), ("a\tO\n\x00\x00", "binary data")],
)
def test_empty_or_binary_files_are_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_all(path)


def test_a_document_without_tokens_is_an_empty_document(tmp_path: Path) -> None:
    path = tmp_path / "e.conll"
    path.write_text("-DOCSTART-\tO\n\n-DOCSTART-\tO\n\na\tO\n", encoding="utf-8")
    assert [(d.id, d.text) for d in read_all(path)] == [("e-1", ""), ("e-2", "a")]


def test_declared_iob2_rejects_iobes_tags(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"sample.iobes:3: tag 'S-Gene' is not part of the IOB2 scheme"):
        read_all(FIXTURES / "sample.iobes", scheme="IOB2")


def test_unknown_options_are_user_errors() -> None:
    with pytest.raises(BionerError, match="unknown doc_per"):
        read_all(FIXTURES / "sample.conll", doc_per="paragraph")
    with pytest.raises(BionerError, match="unknown tag scheme"):
        conll.write([], "unused.conll", scheme="BIO")


@pytest.mark.parametrize("name", ["sample.conll", "medline.iob2", "sample.iobes", "iob1.conll"])
def test_round_trip_keeps_text_entities_and_sentences(tmp_path: Path, name: str) -> None:
    docs = read_all(FIXTURES / name)
    out = tmp_path / f"{Path(name).stem}.conll"
    report = conll.write(docs, out)
    back = read_all(out)
    assert [(d.text, d.entities, d.sentences, d.meta) for d in back] == [
        (d.text, d.entities, d.sentences, d.meta) for d in docs
    ]
    ids_kept = name != "medline.iob2"
    assert report.losses == ({} if ids_kept else {"document ids": 2})
    if ids_kept:
        assert back == docs


def test_docstart_lines_only_when_some_document_has_several_sentences(tmp_path: Path) -> None:
    out = tmp_path / "sample.conll"
    conll.write(read_all(FIXTURES / "sample.iobes"), out)
    assert "-DOCSTART-" not in out.read_text(encoding="utf-8")
    conll.write(read_all(FIXTURES / "sample.conll"), out)
    assert out.read_text(encoding="utf-8") == (FIXTURES / "sample.conll").read_text(encoding="utf-8")


def test_writing_iobes(tmp_path: Path) -> None:
    out = tmp_path / "sample.iobes"
    conll.write(read_all(FIXTURES / "sample.iobes"), out, scheme="IOBES")
    assert out.read_text(encoding="utf-8") == (FIXTURES / "sample.iobes").read_text(encoding="utf-8")


def test_without_docstart_multi_sentence_documents_are_counted(tmp_path: Path) -> None:
    report = conll.write(read_all(FIXTURES / "sample.conll"), tmp_path / "sample.conll", docstart=False)
    assert report.losses["documents of several sentences (read back as one per sentence)"] == 1


def test_writing_pubtator_documents_counts_every_loss(tmp_path: Path) -> None:
    docs = list(pubtator.read(FIXTURES / "sample.pubtator"))
    out = tmp_path / "out.conll"
    report = conll.write(docs, out)
    n_entities = sum(len(d.entities) for d in docs)
    assert report.losses == {
        "document ids": 3,
        "nested or overlapping entities": 1,  # "cancer" inside "breast cancer"
        "entity ids": n_entities - 1,  # the α-sinucleína mention has no id
        "entity attributes (pubtator_extra)": 1,  # the composite mention's extra column
        "passages": 5,
        "document metadata (relations)": 2,
        "documents whose original spacing is not kept": 3,  # "clonidine-induced", "c.35delG (rs80338939)"...
    }
    back = read_all(out)
    assert sum(len(d.entities) for d in back) == n_entities - 1
    assert [e.text for e in back[0].entities][:3] == ["Naloxone", "clonidine", "breast cancer"]


def test_entities_outside_given_sentences_are_counted(tmp_path: Path) -> None:
    text = "BRCA1 here. TP53 there."
    doc = Document(
        "x-1",
        text,
        (entity_at(text, 0, 5, "Gene"), entity_at(text, 12, 16, "Gene"), entity_at(text, 6, 16, "Span")),
        sentences=((0, 11),),
    )
    report = conll.write([doc], tmp_path / "x.conll")
    assert report.losses["entities crossing a sentence boundary or outside every sentence"] == 2
    assert report.losses["documents whose original spacing is not kept"] == 1


def test_unwritable_label_and_boundary_token_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="label 'two words'"):
        conll.write([Document("x", "ab", (Entity(0, 2, "two words", "ab"),))], tmp_path / "x.conll")
    with pytest.raises(BionerError, match="would read back as a document boundary"):
        conll.write([Document("x", "a -DOCSTART- b", meta={"tokenization": "whitespace"})], tmp_path / "x.conll")


def test_passages_are_lost_but_text_kept_when_spacing_allows(tmp_path: Path) -> None:
    doc = Document("x-1", "Title . Body text .", passages=(Passage(0, "Title .", "title"),))
    report = conll.write([doc], tmp_path / "x.conll")
    assert report.losses == {"passages": 1}
    (back,) = read_all(tmp_path / "x.conll")
    assert back.text == doc.text


def test_lone_cr_line_ends_are_read_as_line_ends_and_counted(tmp_path: Path) -> None:
    data = (FIXTURES / "sample.conll").read_text(encoding="utf-8")
    path = tmp_path / "mac.conll"
    path.write_bytes(data.replace("\n", "\r").encode("utf-8"))
    report = Report()
    assert read_all(path, report=report, id_prefix="sample") == read_all(FIXTURES / "sample.conll")
    assert report.warnings["mac.conll: lone CR line ends read as LF"] == data.count("\n")


def test_bconv_doc_id_comments_separate_documents(tmp_path: Path) -> None:
    path = tmp_path / "bconv.conll"
    content = "# doc_id = 17\nAspirin\t0\t7\tB-Chemical\nhurts\t8\t13\tO\n\n# doc_id = 18\nNo\t0\t2\tO\n"
    path.write_text(content, encoding="utf-8")
    docs = read_all(path)
    assert [d.id for d in docs] == ["17", "18"] and spans(docs[0]) == [("Aspirin", "Chemical")]
