"""Every named corpus, read from the data directory, against the counts its SOURCE.md documents.

The expected figures are typed in from /work/shared/corpora/<X>/SOURCE.md (never computed by
the loaders); where a loader has to differ from a SOURCE.md line count, the difference is
explained next to the number. Without the data directory these tests fail: they never skip.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from bioner.corpora import CORPORA, SPLITS, bc2gm, load_corpus
from bioner.errors import BionerError, InputError, Report
from bioner.types import Corpus

Split = tuple[int, dict[str, int]]
"""(documents, mentions per label)."""

EXPECTED: dict[str, dict[str, Split]] = {
    # SOURCE.md: 592 unique PMIDs and 5145 mention lines in train; PMID 8528200 is listed twice with the
    # same 11 mentions. The identical second copy is dropped: 5145 - 11 = 5134 (= the MTL IOB count).
    "ncbi-disease": {
        "train": (592, {"Disease": 5134}),
        "dev": (100, {"Disease": 787}),
        "test": (100, {"Disease": 960}),
    },
    "bc5cdr": {
        "train": (500, {"Chemical": 5203, "Disease": 4182}),
        "dev": (500, {"Chemical": 5347, "Disease": 4244}),
        "test": (500, {"Chemical": 5385, "Disease": 4424}),
    },
    # One document per sentence; GENE.eval lines.
    "bc2gm": {
        "train": (12500, {"GENE": 15204}),
        "dev": (2500, {"GENE": 3061}),
        "test": (5000, {"GENE": 6331}),
    },
    # Train/dev = abstracts 0-1799 / 1800-1999 of Genia4ERtask2.iob2 (SOURCE.md section 3 gives both).
    "jnlpba": {
        "train": (1800, {"DNA": 8481, "RNA": 844, "cell_line": 3430, "cell_type": 6192, "protein": 27803}),
        "dev": (200, {"DNA": 1052, "RNA": 107, "cell_line": 400, "cell_type": 526, "protein": 2466}),
        "test": (404, {"DNA": 1056, "RNA": 118, "cell_line": 500, "cell_type": 1921, "protein": 5067}),
    },
    # SOURCE.md: 25351 test annotation lines; 4 of them are zero-length (no text) and cannot be entities.
    "bc4chemd": {
        "train": (3500, {"Chemical": 29478}),
        "dev": (3500, {"Chemical": 29526}),
        "test": (3000, {"Chemical": 25351 - 4}),
    },
    "linnaeus": {
        "train": (50, {"Species": 2119}),
        "dev": (17, {"Species": 708}),
        "test": (33, {"Species": 1432}),
    },
    "s800": {
        "train": (560, {"Species": 2557}),
        "dev": (80, {"Species": 384}),
        "test": (160, {"Species": 767}),
    },
    "biored": {
        "train": (
            400,
            {
                "CellLine": 103,
                "ChemicalEntity": 2853,
                "DiseaseOrPhenotypicFeature": 3646,
                "GeneOrGeneProduct": 4430,
                "OrganismTaxon": 1429,
                "SequenceVariant": 890,
            },
        ),
        "dev": (
            100,
            {
                "CellLine": 22,
                "ChemicalEntity": 822,
                "DiseaseOrPhenotypicFeature": 982,
                "GeneOrGeneProduct": 1087,
                "OrganismTaxon": 370,
                "SequenceVariant": 250,
            },
        ),
        "test": (
            100,
            {
                "CellLine": 50,
                "ChemicalEntity": 754,
                "DiseaseOrPhenotypicFeature": 917,
                "GeneOrGeneProduct": 1180,
                "OrganismTaxon": 393,
                "SequenceVariant": 241,
            },
        ),
    },
    "chemprot": {
        "train": (1020, {"CHEMICAL": 13017, "GENE-Y": 8348, "GENE-N": 4387}),
        "dev": (612, {"CHEMICAL": 8004, "GENE-Y": 5151, "GENE-N": 2412}),
        "test": (800, {"CHEMICAL": 10810, "GENE-Y": 6658, "GENE-N": 3360}),
    },
    "tmvar3": {
        # train + dev together are tmVar3_Train (checked in test_tmvar3_dev_is_carved_from_train).
        "test": (
            158,
            {
                "Gene": 1419,
                "Species": 586,
                "Disease": 1510,
                "CellLine": 15,
                "DNAMutation": 340,
                "ProteinMutation": 531,
                "SNP": 48,
                "DNAAllele": 37,
                "ProteinAllele": 44,
                "AcidChange": 43,
                "OtherMutation": 52,
            },
        ),
    },
    "pharmaconer": {
        "train": (9411, {"NORMALIZABLES": 3083, "NOTNORMALIZABLES": 35, "PROTEINAS": 1929}),
        "dev": (1046, {"NORMALIZABLES": 338, "NOTNORMALIZABLES": 5, "PROTEINAS": 220}),
        "test": (3403, {"NORMALIZABLES": 973, "NOTNORMALIZABLES": 10, "PROTEINAS": 859}),
    },
}

TMVAR3_TRAIN: Split = (
    342,
    {
        "Gene": 2640,
        "Species": 1170,
        "Disease": 3235,
        "CellLine": 32,
        "DNAMutation": 294,
        "ProteinMutation": 188,
        "SNP": 87,
        "DNAAllele": 32,
        "ProteinAllele": 23,
        "AcidChange": 50,
        "OtherMutation": 206,
    },
)

LOSSES: dict[str, dict[str, int]] = {
    "bc4chemd": {"BC4CHEMD: zero-length mentions (no text), kept in doc.meta['empty_mentions']": 4},
}
"""What a loader could not keep as entities; every other corpus loses nothing."""


@cache
def _load(name: str) -> tuple[Corpus, Report]:
    """Each corpus is read once per test session, from the configured data directory."""
    report = Report()
    return load_corpus(name, report=report), report


def _counts(corpus: Corpus, split: str) -> Split:
    docs = corpus[split]
    return len(docs), dict(Counter(e.label for d in docs for e in d.entities))


def test_every_corpus_has_expected_counts() -> None:
    assert set(EXPECTED) == set(CORPORA)


@pytest.mark.parametrize(("name", "split"), [(name, split) for name, splits in EXPECTED.items() for split in splits])
def test_documents_and_mentions_per_label(name: str, split: str) -> None:
    corpus, _ = _load(name)
    assert _counts(corpus, split) == EXPECTED[name][split]


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_offsets_ids_and_labels(name: str) -> None:
    corpus, report = _load(name)
    assert tuple(corpus.splits) == SPLITS
    assert dict(report.losses) == LOSSES.get(name, {})
    labels = set(CORPORA[name].labels)
    for split, docs in corpus.splits.items():
        assert len({d.id for d in docs}) == len(docs), f"duplicate document ids in {split}"
        for doc in docs:
            assert doc.text
            for e in doc.entities:
                assert doc.text[e.start : e.end] == e.text
                assert e.label in labels
            for p in doc.passages:
                assert doc.text[p.offset : p.end] == p.text
    seen = {e.label for docs in corpus.splits.values() for d in docs for e in d.entities}
    assert seen == labels


@pytest.mark.parametrize("name", sorted(set(CORPORA) - {"pharmaconer"}))
def test_train_and_dev_are_disjoint(name: str) -> None:
    corpus, _ = _load(name)
    train, dev, test = ({d.id for d in corpus[s]} for s in SPLITS)
    assert not train & dev
    assert not dev & test
    if name != "jnlpba":
        assert not train & test


def test_jnlpba_train_and_test_share_ten_abstracts_upstream() -> None:
    corpus, _ = _load("jnlpba")
    train = {d.id for d in corpus["train"] + corpus["dev"]}
    shared = train & {d.id for d in corpus["test"]}
    assert len(shared) == 10
    assert {"98230439", "98374270"} <= shared
    assert any("10 abstracts are shared by train and test" in n for n in corpus.notes)


def test_jnlpba_dev_is_the_last_200_training_abstracts() -> None:
    corpus, _ = _load("jnlpba")
    # First and last abstracts of Genia4ERtask2.iob2, and the second copy of the duplicated id 97218353.
    assert corpus["train"][0].id == "95369245"
    assert corpus["dev"][-1].id == "95370270"
    ids = [d.id for d in corpus["train"]]
    assert ids.index("97218353") < ids.index("97218353-2")
    assert corpus["train"][0].meta["pmid"] == "7641692"


def test_tmvar3_dev_is_carved_from_train() -> None:
    corpus, report = _load("tmvar3")
    train, dev = corpus["train"], corpus["dev"]
    assert (len(train), len(dev)) == (307, 35)
    docs = len(train) + len(dev)
    labels = Counter(e.label for d in train + dev for e in d.entities)
    assert (docs, dict(labels)) == TMVAR3_TRAIN
    pmids = sorted((d.id for d in train + dev), key=int)
    assert [d.id for d in dev] == pmids[::10]
    assert any("every 10th document in PMID order" in n for n in corpus.notes)
    realigned = sum(n for what, n in report.warnings.items() if "realigned" in what)
    assert realigned == 21


def test_carving_is_deterministic() -> None:
    first = load_corpus("tmvar3", splits=["train", "dev"])
    second = load_corpus("tmvar3", splits=["dev", "train"])
    assert first.splits == second.splits


def test_only_the_requested_splits_are_returned() -> None:
    corpus = load_corpus("linnaeus", splits=["test"])
    assert list(corpus.splits) == ["test"]
    assert len(corpus["test"]) == 33


def test_ncbi_disease_duplicate_and_trailing_spaces() -> None:
    corpus, report = _load("ncbi-disease")
    train = corpus["train"]
    assert [d.id for d in train].count("8528200") == 1
    types = Counter(e.attr("type") for d in train for e in d.entities)
    # SOURCE.md type counts minus the dropped copy (10 SpecificDisease, 1 Modifier).
    assert types == {"CompositeMention": 115, "DiseaseClass": 769, "Modifier": 1288, "SpecificDisease": 2962}
    doc = next(d for d in train if d.id == "10923035")
    assert any(e.span == (711, 761) and e.text.endswith('" plus "') for e in doc.entities)
    assert sum(n for what, n in report.warnings.items() if "dropped" in what) == 1
    assert sum(n for what, n in report.warnings.items() if "stripped" in what) == 1


def test_bc2gm_offsets_and_alternatives() -> None:
    corpus, report = _load("bc2gm")
    first = corpus["train"][0]
    # P00001606T0076|14 33|alkaline phosphatases (non-whitespace offsets, inclusive end).
    assert first.id == "P00001606T0076"
    assert [e.text for e in first.entities] == ["alkaline phosphatases", "5-nucleotidase"]
    alternatives = [sum(len(d.meta.get("alternatives", [])) for d in corpus[s]) for s in SPLITS]
    assert alternatives == [12162, 2337, 5068]  # ALTGENE.eval lines
    doc = next(d for d in corpus["train"] if d.id == "P00027739T0000")
    assert any(doc.text[s:e] == "gamma glutamyltransferase" for s, e in doc.meta["alternatives"])
    # Upstream offset errors, realigned to the mention text: 1 GENE and 3 ALTGENE lines in train.
    assert sum(n for what, n in report.warnings.items() if "realigned" in what) == 4


def test_bc4chemd_passages_classes_and_sentences() -> None:
    corpus, _ = _load("bc4chemd")
    sentences = [sum(len(d.sentences or ()) for d in corpus[s]) for s in SPLITS]
    assert sentences == [31276, 31279, 26873]  # borders_all.tsv spans per split
    classes = Counter(e.attr("class") for d in corpus["train"] for e in d.entities)
    assert classes["TRIVIAL"] == 8832 and classes["NO CLASS"] == 40
    in_title = sum(1 for d in corpus["train"] for e in d.entities if e.end <= d.passages[0].end)
    assert in_title == 3053
    empty = [m for d in corpus["test"] for m in d.meta.get("empty_mentions", [])]
    assert len(empty) == 4 and {m["class"] for m in empty} == {"MULTIPLE"}


def test_species_ids() -> None:
    linnaeus, _ = _load("linnaeus")
    assert all((e.id or "").startswith("species:ncbi:") for d in linnaeus["train"] for e in d.entities)


def test_unknown_corpus_lists_the_known_ones() -> None:
    with pytest.raises(BionerError, match="known corpora: bc2gm, bc4chemd, bc5cdr"):
        load_corpus("bc6")


def test_unknown_split_is_an_error() -> None:
    with pytest.raises(BionerError, match="unknown split 'devel'"):
        load_corpus("bc5cdr", splits=["devel"])


def test_missing_corpus_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match=r"BC5CDR.*not found.*biocreative"):
        load_corpus("bc5cdr", data_dir=tmp_path)


def test_missing_data_dir_names_the_corpus_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIONER_DATA", str(tmp_path / "absent"))
    with pytest.raises(BionerError) as err:
        load_corpus("s800")
    message = str(err.value)
    assert "\n" not in message
    assert "BIONER_DATA" in message and "https://github.com/spyysalo/s800-revision-data" in message


BC2GM_FIXTURE = Path(__file__).parent / "fixtures" / "corpora" / "bc2gm"


def test_bc2gm_offsets_count_non_whitespace_characters() -> None:
    report = Report()
    docs = {d.id: d for d in bc2gm.read_split(BC2GM_FIXTURE, "tiny.in", report)}
    # "The  p53 gene and<TAB>BRCA 1 protein.": double space and a tab are not counted upstream.
    assert [(e.start, e.end, e.text) for e in docs["S1"].entities] == [(5, 8, "p53"), (18, 24, "BRCA 1")]
    assert docs["S1"].meta["alternatives"] == [[5, 13]]
    assert docs["S2"].entities == () and "alternatives" not in docs["S2"].meta
    # Offsets that cover "/translation ..." while the mention text says "translation ...": realigned, counted.
    assert [e.text for e in docs["S3"].entities] == ["translation upstream factor"]
    assert sum(report.warnings.values()) == 1


def test_bc2gm_unknown_sentence_is_located() -> None:
    with pytest.raises(InputError, match=r"GENE\.eval:2: unknown sentence id S9"):
        bc2gm.read_split(BC2GM_FIXTURE.with_name("bc2gm-bad"), "tiny.in", Report())


def test_the_readme_names_each_corpus_by_its_real_labels() -> None:
    """``--labels Gene`` scores nothing on BioRED: the README must give the labels the corpus uses."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in readme.splitlines() if line.startswith("| `")]
    checked = 0
    for row in rows:
        name = row[1].strip().split("`")[1]
        if name not in CORPORA:
            continue
        cell = row[2].strip()
        listed = cell.split("+ ", 1)[1] if "+ " in cell else cell  # "7 variant types + Gene, ..."
        labels = [label.strip() for label in listed.split(",")]
        assert set(labels) <= set(CORPORA[name].labels), f"{name}: {labels}"
        checked += 1
    assert checked == len(CORPORA)
