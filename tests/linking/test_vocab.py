"""Vocabulary readers on tiny hand-written files: MEDIC, TSV, OBO, MRCONSO.RRF, corpus mentions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.errors import BionerError, InputError, Report
from bioner.linking.vocab import corpus_names, guess_vocab_format, read_vocabulary, split_ids

FIXTURES = Path(__file__).parents[1] / "fixtures" / "linking"


def test_medic_decodes_character_references_and_prefixes_omim_numbers() -> None:
    report = Report()
    concepts = read_vocabulary(FIXTURES / "medic.txt", "Disease", report=report)
    by_id = {c.ids[0]: c for c in concepts}
    assert by_id["D006527"].names == ("Hepatolenticular Degeneration", "Wilson Disease", "Wilson's Disease")
    assert by_id["C567755"].ids == ("C567755", "OMIM:613097")
    assert all(c.type == "Disease" for c in concepts) and len(concepts) == 7
    assert report.warnings["medic.txt: lines with XML character references decoded"] == 1


def test_a_medic_line_without_its_separator_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "medic.txt"
    bad.write_text("D1||Asthma\nD2|Gout\n")
    with pytest.raises(InputError, match=r"medic.txt:2: expected ID"):
        read_vocabulary(bad, "Disease", "medic")


def test_tsv_rows_of_one_id_merge_and_synonyms_split() -> None:
    concepts = read_vocabulary(FIXTURES / "species.tsv", "Species")
    assert [(c.ids, c.names) for c in concepts] == [
        (("NCBITaxon:9606",), ("Homo sapiens", "human", "man", "humans")),
        (("NCBITaxon:10090",), ("Mus musculus", "mouse")),
    ]


def test_obo_terms_keep_alt_ids_and_synonyms_and_skip_obsolete_and_typedefs() -> None:
    report = Report()
    concepts = read_vocabulary(FIXTURES / "tiny.obo", "Disease", report=report)
    assert [(c.ids, c.names) for c in concepts] == [
        (("DOID:1612", "DOID:1613"), ("breast cancer", "mammary cancer", 'breast "carcinoma"'))
    ]
    assert report.warnings["tiny.obo: obsolete terms skipped"] == 1


def test_mrconso_keeps_english_unsuppressed_names_preferred_first() -> None:
    concepts = read_vocabulary(FIXTURES / "MRCONSO.RRF", "Disease")
    assert [(c.ids, c.names) for c in concepts] == [
        (("C0006142",), ("Breast Neoplasms", "Breast Cancer")),
        (("C0011849",), ("Diabetes Mellitus",)),
    ]


def test_formats_are_guessed_from_names_or_the_medic_separator(tmp_path: Path) -> None:
    assert guess_vocab_format(FIXTURES / "tiny.obo") == "obo"
    assert guess_vocab_format(FIXTURES / "MRCONSO.RRF") == "mrconso"
    assert guess_vocab_format(FIXTURES / "species.tsv") == "tsv"
    assert guess_vocab_format(FIXTURES / "medic.txt") == "medic"
    plain = tmp_path / "names.txt"
    plain.write_text("asthma\n")
    with pytest.raises(BionerError, match="--format"):
        guess_vocab_format(plain)


def test_split_ids_drops_nil_markers_and_keeps_order() -> None:
    assert split_ids("D2|D1+D3") == ("D2", "D1", "D3")
    assert split_ids("-1") == () and split_ids(None) == ()


def test_corpus_names_refuse_a_test_split() -> None:
    with pytest.raises(BionerError, match="test"):
        corpus_names("ncbi-disease", ("train", "test"))
