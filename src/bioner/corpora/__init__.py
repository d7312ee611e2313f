"""Named corpora: each maps a folder of the data directory to a loader and its documented splits.

Loaders read the upstream files that carry character offsets (PubTator, brat, the
BioCreative tables) rather than re-tokenized IOB copies, so the offsets stay the truth.
Splits are always named ``train``, ``dev`` and ``test``; how a split was made when the
corpus has none (a carved dev set) is recorded in ``Corpus.notes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bioner.corpora import bc2gm, bc4chemd, chemprot, datadir, jnlpba, linnaeus, pharmaconer, pubtator_corpora, s800
from bioner.corpora.common import SPLITS, Loader
from bioner.errors import BionerError, Report
from bioner.types import Corpus


@dataclass(frozen=True)
class CorpusSpec:
    """A named corpus: what it holds, where its files come from, and the function that reads them."""

    name: str
    description: str
    labels: tuple[str, ...]
    url: str
    """Upstream download address (for users with internet; nothing here downloads)."""
    language: str
    folder: str
    """Sub-folder of the data directory that holds the upstream files, with their upstream paths."""
    loader: Loader


def _spec(
    name: str, description: str, labels: tuple[str, ...], url: str, folder: str, loader: Loader, language: str = "en"
) -> CorpusSpec:
    return CorpusSpec(name, description, labels, url, language, folder, loader)


CORPORA: dict[str, CorpusSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "ncbi-disease",
            "NCBI disease corpus: 792 PubMed abstracts, disease mentions",
            ("Disease",),
            "https://github.com/spyysalo/ncbi-disease",
            "NCBI-disease",
            pubtator_corpora.load_ncbi_disease,
        ),
        _spec(
            "bc5cdr",
            "BioCreative V CDR: 1,500 PubMed abstracts, chemicals and diseases",
            ("Chemical", "Disease"),
            "https://biocreative.bioinformatics.udel.edu/tasks/biocreative-v/track-3-cdr/",
            "BC5CDR",
            pubtator_corpora.load_bc5cdr,
        ),
        _spec(
            "bc2gm",
            "BioCreative II Gene Mention: 20,000 MEDLINE sentences, gene/protein mentions",
            ("GENE",),
            "https://github.com/spyysalo/bc2gm-corpus",
            "BC2GM",
            bc2gm.load,
        ),
        _spec(
            "jnlpba",
            "JNLPBA 2004 (GENIA): 2,404 MEDLINE abstracts, five molecular biology types",
            jnlpba.LABELS,
            "https://github.com/spyysalo/jnlpba",
            "JNLPBA",
            jnlpba.load,
        ),
        _spec(
            "bc4chemd",
            "BioCreative IV CHEMDNER: 10,000 PubMed abstracts, chemical mentions",
            ("Chemical",),
            "https://github.com/skoblov-lab/SciLK/tree/8ac320054b16793c5a9b790036d08ba37539f0a3",
            "BC4CHEMD",
            bc4chemd.load,
        ),
        _spec(
            "linnaeus",
            "LINNAEUS v1.1: 100 PMC full-text articles, species mentions",
            ("Species",),
            "https://github.com/spyysalo/linnaeus-corpus-data",
            "LINNAEUS",
            linnaeus.load,
        ),
        _spec(
            "s800",
            "Species-800: 800 PubMed abstracts, species mentions",
            ("Species",),
            "https://github.com/spyysalo/s800-revision-data",
            "S800",
            s800.load,
        ),
        _spec(
            "biored",
            "BioRED: 600 PubMed abstracts, six entity types with relations",
            (
                "CellLine",
                "ChemicalEntity",
                "DiseaseOrPhenotypicFeature",
                "GeneOrGeneProduct",
                "OrganismTaxon",
                "SequenceVariant",
            ),
            "https://ftp.ncbi.nlm.nih.gov/pub/lu/BioRED/",
            "BioRED",
            pubtator_corpora.load_biored,
        ),
        _spec(
            "chemprot",
            "BioCreative VI ChemProt (NER view): 2,432 PubMed abstracts, chemicals and genes",
            ("CHEMICAL", "GENE-N", "GENE-Y"),
            "https://biocreative.bioinformatics.udel.edu/news/corpora/chemprot-corpus-biocreative-vi/",
            "ChemProt",
            chemprot.load,
        ),
        _spec(
            "tmvar3",
            "tmVar 3.0: 500 PubMed abstracts, variants plus genes, species, diseases, cell lines",
            (
                "AcidChange",
                "CellLine",
                "DNAAllele",
                "DNAMutation",
                "Disease",
                "Gene",
                "OtherMutation",
                "ProteinAllele",
                "ProteinMutation",
                "SNP",
                "Species",
            ),
            "https://github.com/ncbi/AIONER",
            "tmVar",
            pubtator_corpora.load_tmvar3,
        ),
        _spec(
            "pharmaconer",
            "PharmaCoNER: Spanish clinical case reports, chemicals and proteins (pre-tokenized IOB)",
            ("NORMALIZABLES", "NOTNORMALIZABLES", "PROTEINAS"),
            "https://github.com/CongSun-dlut/PharmaCoNER",
            "PharmaCoNER",
            pharmaconer.load,
            language="es",
        ),
    )
}


def get_spec(name: str) -> CorpusSpec:
    """The spec of a named corpus, or a one-line error listing the known names."""
    try:
        return CORPORA[name]
    except KeyError:
        raise BionerError(f"unknown corpus {name!r}; known corpora: {', '.join(sorted(CORPORA))}") from None


def load_corpus(
    name: str,
    splits: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    report: Report | None = None,
) -> Corpus:
    """Read a named corpus (all splits, or those asked for) from the data directory.

    ``data_dir`` defaults to :func:`bioner.corpora.datadir.data_dir`; what the upstream files
    needed (stripped spaces, realigned offsets, dropped duplicates) is counted in ``report``.
    """
    spec = get_spec(name)
    wanted = tuple(dict.fromkeys(splits)) if splits else SPLITS
    unknown = [s for s in wanted if s not in SPLITS]
    if unknown:
        raise BionerError(f"unknown split {unknown[0]!r}; splits are: {', '.join(SPLITS)}")
    try:
        root = Path(data_dir) if data_dir is not None else datadir.data_dir()
    except BionerError as err:
        raise BionerError(f"{err} (download {name} from {spec.url})") from None
    folder = datadir.corpus_dir(spec.folder, spec.url, root)
    loaded = spec.loader(folder, wanted, report if report is not None else Report())
    return Corpus(name, {s: loaded.splits[s] for s in wanted}, spec.labels, loaded.notes)


__all__ = ["CORPORA", "SPLITS", "CorpusSpec", "get_spec", "load_corpus"]
