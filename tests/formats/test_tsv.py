from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError, InputError, Report
from bioner.formats import pubtator, tsv
from bioner.types import Document, Entity, Passage

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
GVD = FIXTURES / "genovardis"
TEXT = GVD / "text.tsv"
ANNOTATIONS = GVD / "annotations.tsv"


def read_all(path: Path, **options: Any) -> list[Document]:
    return list(tsv.read(path, **options))


def test_reads_spanish_texts_with_their_annotations() -> None:
    docs = read_all(TEXT, annotations=ANNOTATIONS)
    assert [d.id for d in docs] == ["es-31230921.txt", "es-29345678.txt", "es-30111222.txt"]
    first = docs[0]
    assert first.meta == {"pmid": "31230921"}
    assert [(e.text, e.label, e.attr(tsv.MARK)) for e in first.entities] == [
        ("c.35delG", "DNAMutation", "T1"),
        ("GJB2", "Gene", "T2"),
        ("sordera neurosensorial", "Disease", "T4"),
        ("sordera neurosensorial no sindrómica", "Disease", "T3"),
    ]
    assert '"hiperhomocisteinemia"' in docs[1].text  # quotes are text, not CSV quoting
    assert docs[2].entities == ()


def test_without_annotations_documents_have_no_entities() -> None:
    assert all(not d.entities for d in read_all(TEXT))


def test_submission_tables_without_mark_and_with_placeholder_rows() -> None:
    report = Report()
    docs = read_all(TEXT, annotations=GVD / "predictions.tsv", report=report)
    assert [(e.text, e.attrs) for e in docs[0].entities] == [("GJB2", ())]
    assert report.warnings["placeholder rows ('-') for documents without annotations"] == 1


def test_round_trip_writes_both_tables_identically(tmp_path: Path) -> None:
    docs = read_all(TEXT, annotations=ANNOTATIONS)
    report = tsv.write(docs, tmp_path / "text.tsv", annotations=tmp_path / "ann.tsv")
    assert not report
    assert (tmp_path / "text.tsv").read_bytes() == TEXT.read_bytes()
    written = (tmp_path / "ann.tsv").read_text(encoding="utf-8").splitlines()
    assert sorted(written) == sorted(ANNOTATIONS.read_text(encoding="utf-8").splitlines())
    assert read_all(tmp_path / "text.tsv", annotations=tmp_path / "ann.tsv") == docs


def test_submission_format_without_mark(tmp_path: Path) -> None:
    docs = read_all(TEXT, annotations=ANNOTATIONS)
    tsv.write(docs, tmp_path / "text.tsv", annotations=tmp_path / "sub.tsv", mark=False)
    lines = (tmp_path / "sub.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "pmid\tfilename\tlabel\toffset1\toffset2\tspan"
    assert lines[1] == "31230921\tes-31230921.ann\tDNAMutation\t12\t20\tc.35delG"


def test_without_an_annotation_table_entities_are_counted_as_lost(tmp_path: Path) -> None:
    report = tsv.write(read_all(TEXT, annotations=ANNOTATIONS), tmp_path / "text.tsv")
    assert report.losses == {"entities (no annotation table given)": 9}


def test_writing_pubtator_documents_counts_losses_and_keeps_offsets(tmp_path: Path) -> None:
    docs = list(pubtator.read(FIXTURES / "sample.pubtator"))
    text = "uno\tdos\ntres"
    docs.append(Document("multi", text, (Entity(4, 7, "X", "dos"),), passages=(Passage(0, text),)))
    report = tsv.write(docs, tmp_path / "t.tsv", annotations=tmp_path / "a.tsv")
    assert report.losses == {
        "passages": 6,
        "document metadata (relations)": 2,
        "entity ids": 14,
        "entity attributes (pubtator_extra)": 1,
        "documents with tabs or line breaks replaced by spaces (offsets kept)": 1,
    }
    back = read_all(tmp_path / "t.tsv", annotations=tmp_path / "a.tsv")
    assert back[-1].text == "uno dos tres" and back[-1].entities[0].span == (4, 7)
    assert [[e.span for e in d.entities] for d in back] == [[e.span for e in d.entities] for d in docs]
    marks = [e.attr(tsv.MARK) for e in back[0].entities]
    assert marks == [f"T{n}" for n in range(1, 8)]


@pytest.mark.parametrize(
    ("annotation_row", "message"),
    [
        ("31230921\tes-31230921.ann\tT1\tGene\t29\t99\tGJB2", "offsets [29, 99) out of range"),
        ("31230921\tes-31230921.ann\tT1\tGene\tx\t33\tGJB2", "offsets 'x', '33' are not integers"),
        ("31230921\tes-31230921.ann\tT1\tGene\t28\t32\tGJB2", "span 'GJB2' differs from the text ' GJB'"),
        ("31230921\tunknown.ann\tT1\tGene\t29\t33\tGJB2", "annotation for unknown filename 'unknown.ann'"),
        ("31230921\tes-31230921.ann\tT1\tGene\t29\t33", "row has 6 columns, expected 7"),
        ("1\tes-31230921.ann\tT1\tGene\t29\t33\tGJB2", "pmid '1' differs from the text table's '31230921'"),
    ],
)
def test_bad_annotation_rows_name_file_and_line(tmp_path: Path, annotation_row: str, message: str) -> None:
    path = tmp_path / "ann.tsv"
    path.write_text(f"pmid\tfilename\tmark\tlabel\toffset1\toffset2\tspan\n{annotation_row}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_all(TEXT, annotations=path)
    assert str(err.value).startswith(f"{path}:2: ")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("pmid\tfilename\n1\ta.txt\n", 1, "header lacks column 'text'"),
        ("pmid\tfilename\ttext\textra\n", 1, "unexpected or repeated column"),
        ("pmid\tfilename\ttext\n1\ta.txt\tline one\nline two\n", 3, "row has 1 columns, expected 3"),
        ("pmid\tfilename\ttext\n1\ta.txt\tcon\ttab\n", 2, "row has 4 columns"),
        ("pmid\tfilename\ttext\n1\ta.txt\tx\n2\ta.txt\ty\n", 3, "filename 'a.txt' also on line 2"),
    ],
)
def test_bad_text_tables_name_file_and_line(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "text.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_all(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


def test_empty_and_binary_tables_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "text.tsv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="file is empty"):
        read_all(path)
    path.write_bytes(b"pmid\tfilename\ttext\n\x00\x00")
    with pytest.raises(InputError, match=r"text.tsv:2: binary data"):
        read_all(path)


def test_unwritable_ids_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="cannot be a GenoVarDis filename"):
        tsv.write([Document("a\tb", "x")], tmp_path / "t.tsv")


def test_cells_longer_than_the_csv_field_limit_are_read(tmp_path: Path) -> None:
    import csv

    long_text = "gen " * (csv.field_size_limit() // 2)
    path = tmp_path / "texts.tsv"
    path.write_text(f"pmid\tfilename\ttext\n1\tlong.txt\t{long_text}\n", encoding="utf-8")
    [doc] = read_all(path)
    assert doc.text == long_text


def test_lone_cr_line_ends_are_read_as_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "mac.tsv"
    path.write_bytes(b"pmid\tfilename\ttext\r1\ta.txt\tGen uno.\r2\tb.txt\tGen dos.\r")
    report = Report()
    assert [d.text for d in read_all(path, report=report)] == ["Gen uno.", "Gen dos."]
    assert report.warnings["mac.tsv: lone CR line ends read as LF"] == 3


def test_a_document_id_written_twice_is_refused(tmp_path: Path) -> None:
    docs = [Document("a.txt", "uno"), Document("a", "dos")]
    with pytest.raises(BionerError, match="occurs twice"):
        tsv.write(docs, tmp_path / "t.tsv", annotations=tmp_path / "a.tsv")


def test_a_folder_is_a_pair_of_tables_told_apart_by_their_headers(tmp_path: Path) -> None:
    (tmp_path / "train_texto.tsv").write_bytes(TEXT.read_bytes())
    (tmp_path / "train_anotaciones.tsv").write_bytes(ANNOTATIONS.read_bytes())
    assert read_all(tmp_path) == read_all(TEXT, annotations=ANNOTATIONS)


def test_a_folder_without_a_text_table_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "ann.tsv").write_bytes(ANNOTATIONS.read_bytes())
    with pytest.raises(BionerError, match="one text table and at most one annotation table, found 0 and 1"):
        read_all(tmp_path)


def test_writing_a_folder_gives_the_submission_tables(tmp_path: Path) -> None:
    docs = read_all(TEXT, annotations=ANNOTATIONS)
    report = tsv.write(docs, tmp_path / "submission")
    assert report.losses["annotation marks (a table without the mark column)"] == sum(len(d.entities) for d in docs)
    header = (tmp_path / "submission" / "annotations.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "pmid\tfilename\tlabel\toffset1\toffset2\tspan"
    back = read_all(tmp_path / "submission")
    assert [[(e.start, e.end, e.label) for e in d.entities] for d in back] == [
        [(e.start, e.end, e.label) for e in d.entities] for d in docs
    ]
