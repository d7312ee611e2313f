import shutil
from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError, InputError, Report
from bioner.formats import brat, pubtator
from bioner.types import Document, Entity, entity_at

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
BRAT = FIXTURES / "brat"


def read_all(path: Path, **options: Any) -> list[Document]:
    return list(brat.read(path, **options))


def by_id(docs: list[Document]) -> dict[str, Document]:
    return {d.id: d for d in docs}


def test_reads_a_folder_sorted_with_nesting_norms_and_other_lines() -> None:
    report = Report()
    docs = read_all(BRAT, report=report)
    assert [d.id for d in docs] == ["doc1", "doc2", "empty"]
    doc1 = docs[0]
    assert [(e.text, e.label, e.id, e.attr(brat.ID)) for e in doc1.entities] == [
        ("c.35delG", "DNAMutation", None, "T1"),
        ("GJB2", "Gene", "NCBIGene:2706", "T2"),
        ("sordera neurosensorial", "Disease", None, "T4"),
        ("sordera neurosensorial no sindrómica", "Disease", None, "T3"),
        ("pacientes", "Species", "Taxonomy:9606", "T5"),
    ]
    assert doc1.meta["brat_other"] == [
        "R1\tCauses Arg1:T1 Arg2:T3",
        "#1\tAnnotatorNotes T1\tvariante frecuente",
        "A1\tNegated T5",
    ]  # N3 referred to T6, a discontinuous entity skipped: dropped with it, and counted
    assert report.losses == {
        "discontinuous entities skipped": 1,
        "relations, events, attributes and notes referring to a skipped entity (dropped)": 1,
    }
    assert report.warnings["brat: .txt files without an .ann file (not read)"] == 1
    assert docs[2].entities == () and docs[2].meta == {}


def test_offsets_count_crlf_in_the_text_file() -> None:
    (doc,) = read_all(BRAT / "doc2.ann")
    assert doc.text == "Primera línea.\r\nBRCA1 en ratón.\r\n"
    assert [(e.start, e.text) for e in doc.entities] == [(16, "BRCA1"), (25, "ratón")]
    assert read_all(BRAT / "doc2.txt") == [doc]


def test_discontinuous_cover_and_fragments() -> None:
    report = Report()
    covered = by_id(read_all(BRAT, discontinuous="cover", report=report))["doc1"]
    t6 = next(e for e in covered.entities if e.attr(brat.ID) == "T6")
    assert (t6.start, t6.end, t6.id) == (40, 76, "MESH:D003638")
    assert t6.attr(brat.SPANS) == "40 47;66 76" and t6.attr(brat.NORM_TEXT) == "sordera"
    assert report.warnings["discontinuous entities read as their covering span"] == 1
    fragments = by_id(read_all(BRAT, discontinuous="fragments"))["doc1"]
    parts = [e for e in fragments.entities if e.attr(brat.ID) == "T6"]
    assert [(e.text, e.attr(brat.FRAGMENT)) for e in parts] == [("sordera", "1/2"), ("sindrómica", "2/2")]


@pytest.mark.parametrize("mode", ["skip", "cover", "fragments"])
def test_round_trip_is_identity(tmp_path: Path, mode: str) -> None:
    docs = read_all(BRAT, discontinuous=mode)
    report = brat.write(docs, tmp_path / "out")
    assert not report.losses
    assert read_all(tmp_path / "out", discontinuous=mode) == docs
    assert (tmp_path / "out" / "doc2.txt").read_bytes() == (BRAT / "doc2.txt").read_bytes()
    if mode != "skip":
        written = (tmp_path / "out" / "doc1.ann").read_text(encoding="utf-8").splitlines()
        original = (BRAT / "doc1.ann").read_text(encoding="utf-8").splitlines()
        # a normalization line without its optional text gets the entity's text
        original[original.index("N2\tReference T5 Taxonomy:9606")] += "\tpacientes"
        assert sorted(written) == sorted(original)


def test_writing_documents_from_another_format_counts_losses(tmp_path: Path) -> None:
    docs = list(pubtator.read(FIXTURES / "sample.pubtator"))
    report = brat.write(docs, tmp_path / "out")
    assert report.losses == {
        "passages": 5,
        "document metadata (relations)": 2,
        "entity attributes (pubtator_extra)": 1,
    }
    back = read_all(tmp_path / "out")
    assert [[(e.span, e.label, e.id) for e in d.entities] for d in back] == [
        [(e.span, e.label, e.id) for e in d.entities] for d in docs
    ]
    assert (tmp_path / "out" / "3003.ann").read_text(encoding="utf-8") == (
        "T1\tGene 26 31\tBRCA1\nN1\tReference T1 672\tBRCA1\n"
    )


def test_new_ids_never_collide_with_kept_ones(tmp_path: Path) -> None:
    text = "BRCA1 and TP53"
    kept = Entity(0, 5, "Gene", "BRCA1", attrs=(("brat_id", "T2"),))
    new = entity_at(text, 10, 14, "Gene", id="7157")
    brat.write([Document("d", text, (kept, new))], tmp_path / "out")
    assert (tmp_path / "out" / "d.ann").read_text(encoding="utf-8").splitlines() == [
        "T2\tGene 0 5\tBRCA1",
        "T3\tGene 10 14\tTP53",
        "N1\tReference T3 7157\tTP53",
    ]


def test_ids_with_whitespace_are_counted_as_lost(tmp_path: Path) -> None:
    doc = Document("d", "BRCA1", (Entity(0, 5, "Gene", "BRCA1", id="NCBI Gene:672", score=0.5),))
    report = brat.write([doc], tmp_path / "out")
    assert report.losses == {"entity ids that are empty or hold whitespace": 1, "entity scores": 1}


@pytest.mark.parametrize(
    ("ann", "message"),
    [
        ("T1\tGene 0 5", ":1: entity line needs 3 tab-separated fields"),
        ("T1\tGene 0 x\tBRCA1", ":1: malformed type and offsets 'Gene 0 x'"),
        ("T1\tGene 0 99\tBRCA1", ":1: offsets 0 99 out of range"),
        ("T1\tGene 0 5\tBRCA2", ":1: entity text 'BRCA2' differs from the document text 'BRCA1'"),
        ("T1\tGene 0 5\tBRCA1\nT1\tGene 0 5\tBRCA1", ":2: duplicate annotation id T1"),
    ],
)
def test_bad_annotation_lines_name_file_and_line(tmp_path: Path, ann: str, message: str) -> None:
    (tmp_path / "x.txt").write_text("BRCA1 gene", encoding="utf-8")
    (tmp_path / "x.ann").write_text(ann + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_all(tmp_path / "x.ann")
    assert str(err.value).startswith(str(tmp_path / "x.ann") + message)


def test_missing_or_unreadable_files_are_errors(tmp_path: Path) -> None:
    (tmp_path / "x.ann").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"no text file x\.txt beside it"):
        read_all(tmp_path)
    (tmp_path / "x.txt").write_bytes(b"\xff\xfe binary")
    with pytest.raises(InputError, match=r"x.txt:1: not valid UTF-8"):
        read_all(tmp_path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match=r"no \.ann files"):
        read_all(tmp_path / "sub")
    with pytest.raises(InputError, match="expected a folder of BRAT files"):
        read_all(tmp_path / "x.json")


def test_write_refuses_unsafe_names_duplicates_and_files(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="not a safe file name"):
        brat.write([Document("../evil", "x")], tmp_path / "out")
    with pytest.raises(BionerError, match="occurs twice"):
        brat.write([Document("a", "x"), Document("a", "y")], tmp_path / "out")
    with pytest.raises(BionerError, match="written to a folder"):
        brat.write([Document("a", "x")], tmp_path / "out.ann")
    with pytest.raises(BionerError, match="label 'two words' cannot be a BRAT type"):
        brat.write([Document("a", "ab", (Entity(0, 2, "two words", "ab"),))], tmp_path / "out")


def test_unknown_discontinuous_mode_is_a_user_error(tmp_path: Path) -> None:
    shutil.copytree(BRAT, tmp_path / "b")
    with pytest.raises(BionerError, match="unknown discontinuous"):
        read_all(tmp_path / "b", discontinuous="merge")


def test_other_lines_of_the_wrong_shape_are_counted_not_written(tmp_path: Path) -> None:
    report = brat.write([Document("d", "abc", meta={"brat_other": "R1\tx"})], tmp_path / "out")
    assert report.losses == {"document metadata (brat_other)": 1}
    assert (tmp_path / "out" / "d.ann").read_text(encoding="utf-8") == ""


def test_pre_1_3_discontinuous_text_is_read_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("left and right lungs", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tOrgan 0 4;15 20\tleftlungs\n", encoding="utf-8")
    report = Report()
    [doc] = read_all(tmp_path, report=report, discontinuous="cover")
    assert doc.entities[0].span == (0, 20) and doc.entities[0].attr(brat.SPANS) == "0 4;15 20"
    assert report.warnings["discontinuous entity texts in the pre-1.3 form (fragments not space-separated), read"] == 1


def test_lines_referring_to_an_entity_not_written_are_dropped_and_counted(tmp_path: Path) -> None:
    other = ["R1\tCauses Arg1:T1 Arg2:T9", "E1\tHurt:T1 Theme:R1", "A1\tNegated T1", "#1\tAnnotatorNotes T7\tx"]
    doc = Document(
        "d",
        "Aspirin hurts.",
        (Entity(0, 7, "Chemical", "Aspirin", attrs=(("brat_id", "T1"),)),),
        meta={"brat_other": other},
    )
    report = brat.write([doc], tmp_path / "out")
    assert (tmp_path / "out" / "d.ann").read_text(encoding="utf-8") == "T1\tChemical 0 7\tAspirin\nA1\tNegated T1\n"
    assert report.losses["relations, events, attributes and notes referring to an entity not written (dropped)"] == 3


def test_an_output_folder_under_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(BionerError, match="is a file, not a folder"):
        brat.write(read_all(BRAT), tmp_path / "file" / "out")
