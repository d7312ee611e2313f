"""``bioner convert`` on the hand-written format fixtures, through the real entry point."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bioner.formats import brat, conll, pubtator, tsv

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only


FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def test_pubtator_to_conll_reports_losses_and_a_summary(run_main: RunMain, tmp_path: Path) -> None:
    out = tmp_path / "out.conll"
    code, _, err = run_main("convert", FIXTURES / "sample.pubtator", out, "--scheme", "IOBES")
    assert code == 0, err
    lines = err.splitlines()
    assert "lost: nested or overlapping entities: 1" in lines
    assert "lost: entity ids: 14" in lines
    assert lines[-1] == "converted 3 documents, 15 entities"
    assert "S-Chemical" in out.read_text(encoding="utf-8")
    assert sum(len(d.entities) for d in conll.read(out)) == 14


def test_tsv_named_conll_files_are_read_as_conll(run_main: RunMain, tmp_path: Path) -> None:
    source = tmp_path / "train.tsv"
    shutil.copy(FIXTURES / "sample.iobes", source)
    code, _, err = run_main("convert", source, tmp_path / "train.jsonl")
    assert code == 0, err
    assert err.splitlines()[-1] == "converted 2 documents, 3 entities"


def test_genovardis_to_brat_and_back(run_main: RunMain, tmp_path: Path) -> None:
    gvd = FIXTURES / "genovardis"
    code, _, err = run_main(
        "convert",
        gvd / "text.tsv",
        tmp_path / "brat",
        "--to",
        "brat",
        "--annotations",
        gvd / "annotations.tsv",
    )
    assert code == 0, err
    assert err.splitlines() == [
        "lost: document metadata (pmid): 3",
        "lost: entity attributes (tsv_mark): 9",
        "converted 3 documents, 9 entities",
    ]
    code, _, err = run_main(
        "convert",
        tmp_path / "brat",
        tmp_path / "back.tsv",
        "--out-annotations",
        tmp_path / "back-ann.tsv",
    )
    assert code == 0, err
    assert "lost: entity attributes (brat_id): 9" in err.splitlines()
    back = list(tsv.read(tmp_path / "back.tsv", annotations=tmp_path / "back-ann.tsv"))
    original = list(tsv.read(gvd / "text.tsv", annotations=gvd / "annotations.tsv"))
    assert sorted((d.id, d.text, [(e.span, e.label) for e in d.entities]) for d in back) == sorted(
        (d.id, d.text, [(e.span, e.label) for e in d.entities]) for d in original
    )  # BRAT files come back in name order


def test_realign_option_reaches_the_pubtator_reader(run_main: RunMain, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = run_main("convert", FIXTURES / "shifted.pubtator", out, "--to", "brat", "--realign")
    assert code == 0, err
    assert "warning: mentions realigned to their text: 3" in err.splitlines()
    assert [e.text for d in brat.read(out) for e in d.entities] == ["PAX6", "aniridia", "Aniridia", "AN"]


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "extra", "message"),
    [
        ("bad.pubtator", b"7|t|abc\n7|a|def\n7\t0\t3\tabd\tX\n", (), "bad.pubtator:3: mention text 'abd' differs"),
        ("bad.pubtator", b"7|t|abc\n7|a|def\n7\t0\t3\tabc\n", (), "bad.pubtator:3: mention line has 4 columns"),
        ("bad.pubtator", b"7|t|abc\n7|a|def\n7\t0\t99\tabc\tX\n", (), "bad.pubtator:3: offsets [0, 99) out of range"),
        ("bad.conll", b"a\tB-Gene\nb\tI-Disease\n", (), "bad.conll:2: tag 'I-Disease' continues a mention of type"),
        ("bad.conll", b"a\tB-Gene\nb\tZ-Gene\n", (), "bad.conll:2: malformed tag 'Z-Gene'"),
        ("bad.conll", b"a\tO\nb\n", (), "bad.conll:2: line has one column"),
        ("empty.conll", b"", (), "empty.conll: file is empty"),
        ("bin.conll", b"a\tO\n\x00\xff", (), "bin.conll:2: binary data"),
        ("x.txt", b"anything", (), "cannot tell the format from the file name"),
        ("ok.conll", b"a\tO\n", ("--to", "yaml"), "unknown format 'yaml'"),
        ("ok.conll", b"a\tO\n", ("--to", "pubtator", "--scheme", "IOBES"), "--scheme applies to conll only"),
        ("ok.conll", b"a\tO\n", ("--to", "conll", "--scheme", "BIO"), "unknown tag scheme 'BIO'"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(
    run_main: RunMain,
    tmp_path: Path,
    name: str,
    content: bytes,
    extra: tuple[str, ...],
    message: str,
) -> None:
    source = write(tmp_path / name, content)
    target = tmp_path / "out.jsonl"
    code, out, err = run_main("convert", source, target, *extra)
    assert code == 2
    assert err.startswith("bioner: error: ") and err.count("\n") == 1
    assert message in err and "Traceback" not in err + out
    assert not target.exists() and not (tmp_path / "out.conll").exists()


def test_pubtator_relations_survive_pubtator_to_pubtator(run_main: RunMain, tmp_path: Path) -> None:
    out = tmp_path / "copy.pubtator"
    code, _, err = run_main("convert", FIXTURES / "sample.pubtator", out)
    assert code == 0 and err.splitlines() == ["converted 3 documents, 15 entities"]
    assert list(pubtator.read(out)) == list(pubtator.read(FIXTURES / "sample.pubtator"))


def test_reader_and_writer_options_are_given_as_key_value(run_main: RunMain, tmp_path: Path) -> None:
    out = tmp_path / "out.conll"
    code, _, err = run_main(
        "convert", FIXTURES / "brat", out, "--option", "discontinuous=fragments", "--out-option", "docstart=true"
    )
    assert code == 0, err
    assert "warning: discontinuous entities read as one entity per fragment: 1" in err.splitlines()
    assert out.read_text(encoding="utf-8").startswith("-DOCSTART-")
    bad = tmp_path / "bad.pubtator"
    bad.write_text("1|t|Aspirin.\n1\tnonsense\n1\t0\t7\tAspirin\tChemical\n", encoding="utf-8")
    code, _, err = run_main("convert", bad, tmp_path / "out.jsonl", "--option", "skip_bad_lines=true")
    assert code == 0, err
    assert "warning: malformed lines skipped: 1" in err.splitlines()


@pytest.mark.parametrize(
    ("flag", "option", "message"),
    [
        ("--option", "discontinuos=cover", "--option discontinuos: the brat reader takes discontinuous"),
        ("--out-option", "scheme=IOB2", "--out-option scheme: the jsonl writer takes no options"),
        ("--option", "nokey", "reader option 'nokey' is not KEY=VALUE"),
    ],
)
def test_unknown_options_are_one_line_errors(
    run_main: RunMain, tmp_path: Path, flag: str, option: str, message: str
) -> None:
    code, _, err = run_main("convert", FIXTURES / "brat", tmp_path / "out.jsonl", flag, option)
    assert code == 2 and message in err and not (tmp_path / "out.jsonl").exists()


def test_a_temporary_file_left_by_a_killed_convert_is_removed_by_the_next_one(
    run_main: RunMain, tmp_path: Path
) -> None:
    from bioner.files import TEMP_SUFFIX

    out = tmp_path / "out.jsonl"
    left = tmp_path / f".out.jsonl.{2**22 + 777}.x1y2z3{TEMP_SUFFIX}"  # above pid_max: its writer is gone
    left.write_text('{"id": "half', encoding="utf-8")
    code, _, err = run_main("convert", FIXTURES / "sample.pubtator", out)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_an_output_under_a_file_is_a_one_line_error(run_main: RunMain, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, err = run_main("convert", FIXTURES / "sample.pubtator", tmp_path / "file" / "out.jsonl")
    assert code == 2 and "is a file, not a folder" in err and len(err.splitlines()) == 1
