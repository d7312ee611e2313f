from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError, InputError, Report
from bioner.formats import pubtator
from bioner.types import Document, Entity, Passage, entity_at, make_attrs

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def read_all(path: Path, **options: Any) -> list[Document]:
    return list(pubtator.read(path, **options))


def test_reads_title_abstract_offsets_nesting_ids_extras_and_relations() -> None:
    docs = read_all(FIXTURES / "sample.pubtator")
    assert [d.id for d in docs] == ["1001", "2002", "3003"]
    first = docs[0]
    title = "Naloxone reverses the antihypertensive effect of clonidine in breast cancer."
    assert first.passages[0] == Passage(0, title, "title")
    assert first.passages[1].offset == len(title) + 1 and first.passages[1].kind == "abstract"
    assert first.text == title + " " + first.passages[1].text
    spans = {(e.text, e.label, e.id) for e in first.entities}
    assert ("breast cancer", "Disease", "D001943") in spans and ("cancer", "Disease", "D009369") in spans
    composite = next(e for e in first.entities if e.text == "hypotension and bradycardia")
    assert composite.id == "D007022|D001919"
    assert composite.attr(pubtator.EXTRA) == "hypotension|bradycardia"
    assert first.meta["relations"] == [["CID", "D003000", "D007022"]]


def test_non_ascii_text_missing_id_and_title_only_document() -> None:
    docs = read_all(FIXTURES / "sample.pubtator")
    spanish = docs[1]
    alpha = next(e for e in spanish.entities if e.text == "α-sinucleína")
    assert alpha.id is None and spanish.text[alpha.start : alpha.end] == "α-sinucleína"
    assert spanish.meta["relations"] == [["Association", "rs80338939", "D034381", "Novel"]]
    title_only = docs[2]
    assert title_only.text == "Title only document about BRCA1."
    assert title_only.passages == (Passage(0, title_only.text, "title"),)
    assert [e.text for e in title_only.entities] == ["BRCA1"]


def test_round_trip_is_identity_and_loses_nothing(tmp_path: Path) -> None:
    docs = read_all(FIXTURES / "sample.pubtator")
    out = tmp_path / "out.pubtator"
    report = pubtator.write(docs, out)
    assert not report.losses
    assert read_all(out) == docs
    assert out.read_text(encoding="utf-8") == (FIXTURES / "sample.pubtator").read_text(encoding="utf-8")


def test_crlf_and_bom_are_tolerated_and_counted(tmp_path: Path) -> None:
    data = (FIXTURES / "sample.pubtator").read_text(encoding="utf-8").replace("\n", "\r\n")
    path = tmp_path / "crlf.pubtator"
    path.write_bytes(b"\xef\xbb\xbf" + data.encode("utf-8"))
    report = Report()
    assert read_all(path, report=report) == read_all(FIXTURES / "sample.pubtator")
    assert report.warnings["crlf.pubtator: CRLF line ends read as LF"] == data.count("\r\n")
    assert report.warnings["crlf.pubtator: UTF-8 byte-order mark removed"] == 1


def test_mention_text_mismatch_is_an_error_naming_file_and_line() -> None:
    path = FIXTURES / "shifted.pubtator"
    with pytest.raises(InputError) as err:
        read_all(path)
    assert str(err.value).startswith(f"{path}:4: mention text 'aniridia' differs")
    assert "\n" not in str(err.value)


def test_realign_moves_mentions_to_their_text_and_counts_it() -> None:
    report = Report()
    (doc,) = read_all(FIXTURES / "shifted.pubtator", report=report, realign=True)
    assert [(e.start, e.end, e.text) for e in doc.entities] == [
        (4, 8, "PAX6"),
        (20, 28, "aniridia"),
        (30, 38, "Aniridia"),
        (40, 42, "AN"),
    ]
    assert report.warnings["mentions realigned to their text"] == 3
    assert report.warnings["mention text with surrounding whitespace (stripped)"] == 1


def test_realign_gives_up_beyond_its_window() -> None:
    with pytest.raises(InputError, match=r"shifted.pubtator:6: mention text 'AN' not found within 2 characters"):
        read_all(FIXTURES / "shifted.pubtator", realign=True, realign_window=2)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("7\t0\t3\tabc", "mention line has 4 columns"),
        ("7\t0\tx\tabc\tGene", "end offset 'x' is not a non-negative integer"),
        ("7\t2\t1\tabc\tGene", "offsets [2, 1) out of range"),
        ("7\t0\t99\tabc\tGene", "offsets [0, 99) out of range"),
        ("7\tTranslation 7488T/C\tHis-to-Arg", "malformed line"),
        ("8\t0\t3\tabc\tGene", "line of document '8' inside document '7'"),
    ],
)
def test_malformed_mention_lines_are_errors_with_line_numbers(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.pubtator"
    path.write_text(f"7|t|abc def\n7|a|ghi\n{line}\n\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_all(path)
    assert str(err.value).startswith(f"{path}:3: ")
    assert message in str(err.value)


def test_skip_bad_lines_counts_what_it_skips(tmp_path: Path) -> None:
    path = tmp_path / "bad.pubtator"
    path.write_text("7|t|abc def\n7|a|ghi\n7\tTranslation 7488T/C\tx\n7\t0\t3\tabc\tGene\n\n", encoding="utf-8")
    report = Report()
    (doc,) = read_all(path, report=report, skip_bad_lines=True)
    assert [e.text for e in doc.entities] == ["abc"]
    assert report.warnings["malformed lines skipped"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("7\t0\t3\tabc\tGene\n", ":1: annotation line before any title line"),
        ("7|a|abstract first\n", ":1: abstract line of document 7 without its title line"),
        ("", ": file is empty"),
    ],
)
def test_structural_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.pubtator"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_all(path)


def test_binary_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.pubtator"
    path.write_bytes(b"7|t|abc\n\x00\x01\x02")
    with pytest.raises(InputError, match=r"bin.pubtator:2: binary data"):
        read_all(path)


def test_duplicate_document_ids_are_kept_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "dup.pubtator"
    path.write_text("7|t|abc\n7|a|def\n7\t0\t3\tabc\tX\n\n7|t|abc\n7|a|def\n\n", encoding="utf-8")
    report = Report()
    docs = read_all(path, report=report)
    assert [d.id for d in docs] == ["7", "7"] and len(docs[0].entities) == 1 and not docs[1].entities
    assert report.warnings["duplicate document ids (both documents kept)"] == 1


def test_writing_documents_from_elsewhere_counts_losses(tmp_path: Path) -> None:
    text = "First line\nsecond line with BRCA1."
    doc = Document(
        "d1",
        text,
        (entity_at(text, 28, 33, "Gene", id="672", score=0.9, attrs=make_attrs(source="model")),),
        passages=(Passage(0, "First line", "front"), Passage(11, text[11:], "body")),
        meta={"split": "train"},
    )
    out = tmp_path / "out.pubtator"
    report = pubtator.write([doc], out)
    assert report.losses == {
        "documents with tabs or line breaks replaced by spaces (offsets kept)": 1,
        "documents whose passages are not a title and an abstract": 1,
        "entity scores": 1,
        "entity attributes (source)": 1,
        "document metadata (split)": 1,
    }
    (back,) = read_all(out)
    assert back.text == text.replace("\n", " ")
    assert back.entities == (Entity(28, 33, "Gene", "BRCA1", id="672"),)


def test_document_without_passages_becomes_a_title(tmp_path: Path) -> None:
    doc = Document("d1", "Just text.", (entity_at("Just text.", 0, 4, "X"),))
    out = tmp_path / "out.pubtator"
    assert not pubtator.write([doc], out)
    (back,) = read_all(out)
    assert back.text == doc.text and back.entities == doc.entities
    assert back.passages == (Passage(0, "Just text.", "title"),)


def test_unwritable_document_id_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="cannot be written in PubTator"):
        pubtator.write([Document("a|b", "text")], tmp_path / "out.pubtator")


def test_lone_cr_line_ends_are_read_as_line_ends_and_counted(tmp_path: Path) -> None:
    data = (FIXTURES / "sample.pubtator").read_text(encoding="utf-8")
    path = tmp_path / "mac.pubtator"
    path.write_bytes(data.replace("\n", "\r").encode("utf-8"))
    report = Report()
    assert read_all(path, report=report) == read_all(FIXTURES / "sample.pubtator")
    assert report.warnings["mac.pubtator: lone CR line ends read as LF"] == data.count("\n")


def test_fbk_variant_mention_lines_are_read_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "fbk.pubtator"
    path.write_text("1|t|Aspirin hurts.\n1|a|No.\n1\tT1\tChemical\t0\t7\tAspirin\n\n", encoding="utf-8")
    report = Report()
    [doc] = read_all(path, report=report)
    assert doc.entities == (Entity(0, 7, "Chemical", "Aspirin", attrs=make_attrs({pubtator.FBK_ID: "T1"})),)
    assert "relations" not in doc.meta
    assert report.warnings["FBK-variant mention lines (PMID, id, type, start, end, text) read"] == 1


def test_fbk_variant_lines_with_an_identifier_column_are_mentions_not_relations(tmp_path: Path) -> None:
    path = tmp_path / "fbk.pubtator"
    lines = "1\tT1\tChemical\t0\t7\tAspirin\tD001241\n1\tT2\tDisease\t15\t21\thurts.\tD0\textra\n"
    path.write_text(f"1|t|Aspirin always hurts.\n1|a|No.\n{lines}\n", encoding="utf-8")
    report = Report()
    [doc] = read_all(path, report=report)
    assert [(e.start, e.end, e.label, e.id, e.attrs) for e in doc.entities] == [
        (0, 7, "Chemical", "D001241", make_attrs({pubtator.FBK_ID: "T1"})),
        (15, 21, "Disease", "D0", make_attrs({pubtator.FBK_ID: "T2", "pubtator_extra": "extra"})),
    ]
    assert "relations" not in doc.meta
    assert report.warnings["FBK-variant mention lines (PMID, id, type, start, end, text) read"] == 2


def test_an_error_quotes_only_an_excerpt_of_a_huge_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.pubtator"
    path.write_text(f"1|t|Aspirin.\n1\t0\t7\t{'x' * 1_000_000}\tChemical\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_all(path)
    assert str(err.value).startswith(f"{path}:2: mention text 'xxx") and len(str(err.value)) < 1500
