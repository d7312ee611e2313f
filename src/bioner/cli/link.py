"""``bioner link index | evaluate | apply``: entity linking indexes, their accuracy, and linking documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bioner.cli.app import app
from bioner.errors import BionerError, Report

if TYPE_CHECKING:
    from bioner.linking.linker import Linker

link_app = typer.Typer(
    help="Entity linking: concept indexes, accuracy on gold mentions, linking files.", no_args_is_help=True
)
app.add_typer(link_app, name="link")

AlphaOption = Annotated[
    float | None,
    typer.Option("--alpha", help="Weight of sparse (TF-IDF) against dense scores: 1 sparse only, 0 dense only."),
]
ThresholdOption = Annotated[
    float | None, typer.Option("--threshold", help="Links scoring below this stay unlinked (NIL).")
]
NoAbbreviationsOption = Annotated[
    bool, typer.Option("--no-abbreviations", help="Do not read short forms as their long forms.")
]
NoCompositeOption = Annotated[
    bool, typer.Option("--no-composite", help="Do not link coordinated mentions part by part.")
]


def _linker(
    index: Path,
    alpha: float | None,
    threshold: float | None,
    no_abbreviations: bool,
    no_composite: bool,
    report: Report,
) -> Linker:
    from bioner.linking.linker import LinkConfig, Linker

    config = LinkConfig(index=str(index), abbreviations=not no_abbreviations, composite=not no_composite)
    if alpha is not None:
        config.alpha = alpha
    if threshold is not None:
        config.threshold = threshold
    return Linker.from_config(config, report)


@link_app.command("index")
def index(
    vocabularies: Annotated[
        list[str],
        typer.Argument(
            metavar="VOCABULARY...",
            help="Vocabulary files (MEDIC, TSV id/name/synonyms, OBO, MRCONSO.RRF) or corpus:NAME (training mentions).",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Index folder to write.")],
    type_: Annotated[
        str | None, typer.Option("--type", "-t", help="Entity type of the file vocabularies (MEDIC: Disease).")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Format of the files: medic, tsv, obo, mrconso.")] = None,
    split: Annotated[
        list[str] | None, typer.Option("--split", "-s", help="Corpus splits to take mentions from (default: train).")
    ] = None,
    labels: Annotated[
        str | None, typer.Option("--labels", help="Comma-separated corpus labels to keep (default: all).")
    ] = None,
    model: Annotated[
        str,
        typer.Option("--model", help="Embedding model for dense candidates (packaged MiniLM, a folder, SapBERT...)."),
    ] = "all-MiniLM-L6-v2",
    no_dense: Annotated[bool, typer.Option("--no-dense", help="Sparse candidates only: no embedding model.")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", metavar="DIR", help="Folder of corpora.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Build a linking index (one per entity type) from vocabularies and corpus training mentions; never test splits."""
    from bioner.linking.index import build_index
    from bioner.linking.vocab import (
        CORPUS_PREFIX,
        Concept,
        MentionName,
        corpus_names,
        guess_vocab_format,
        read_vocabulary,
    )

    report = Report()
    concepts: list[Concept] = []
    mentions: list[MentionName] = []
    keep = {x.strip() for x in labels.split(",") if x.strip()} if labels else None
    for source in vocabularies:
        if source.startswith(CORPUS_PREFIX):
            found = corpus_names(source[len(CORPUS_PREFIX) :], split or ("train",), data_dir, report)
            mentions += [m for m in found if keep is None or m.type in keep]
            continue
        path = Path(source)
        chosen_fmt = fmt or guess_vocab_format(path)
        if type_ is None and chosen_fmt != "medic":
            raise BionerError(f"{path}: name the entity type of its concepts with --type (e.g. --type Disease)")
        concepts += read_vocabulary(path, type_ or "Disease", chosen_fmt, report)
    built, seconds = build_index(
        concepts, mentions, embedding_model=None if no_dense else model, sources=vocabularies, progress=not quiet
    )
    built.save(output)
    for line in report.lines():
        typer.echo(line, err=True)
    size = sum(f.stat().st_size for f in output.iterdir() if f.is_file())
    for name, t in built.types.items():
        typer.echo(f"{name}: {len(t.concept_ids)} concepts, {len(t.names)} names")
    typer.echo(f"built in {seconds:.1f} s; wrote {output} ({size / 1e6:.1f} MB)")


@link_app.command("evaluate")
def evaluate(
    index_dir: Annotated[Path, typer.Argument(metavar="INDEX", help="Link index folder (bioner link index).")],
    corpus: Annotated[
        str | None, typer.Option("--corpus", "-c", help="Named corpus whose gold mentions to link.")
    ] = None,
    gold: Annotated[Path | None, typer.Option("--gold", "-g", help="Or a file of gold documents with IDs.")] = None,
    split: Annotated[str, typer.Option("--split", "-s", help="Corpus split.")] = "test",
    labels: Annotated[str | None, typer.Option("--labels", help="Comma-separated labels to score.")] = None,
    alpha: AlphaOption = None,
    no_abbreviations: NoAbbreviationsOption = False,
    no_composite: NoCompositeOption = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", metavar="DIR", help="Folder of corpora.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """accuracy@1 and @5 of linking the gold mentions (their own spans and types) against their gold IDs."""
    from bioner.linking.evaluate import link_accuracy

    if (corpus is None) == (gold is None):
        raise BionerError("give one of --corpus NAME and --gold FILE")
    report = Report()
    if corpus is not None:
        from bioner.corpora import load_corpus

        docs = load_corpus(corpus, splits=[split], data_dir=data_dir, report=report)[split]
    else:
        from bioner.cli.evaluate import read_side

        assert gold is not None
        docs = read_side(gold, None, {}, "gold")
    if labels:
        wanted = {x.strip() for x in labels.split(",") if x.strip()}
        docs = [d.with_entities(e for e in d.entities if e.label in wanted) for d in docs]
    linker = _linker(index_dir, alpha, None, no_abbreviations, no_composite, report)
    result = link_accuracy(linker, docs)
    if as_json:
        typer.echo(
            json.dumps({"index": str(index_dir), "corpus": corpus, "split": split, **result.to_dict()}, indent=2)
        )
    else:
        typer.echo(result.to_markdown(), nl=False)


@link_app.command("apply")
def apply(
    index_dir: Annotated[Path, typer.Argument(metavar="INDEX", help="Link index folder (bioner link index).")],
    source: Annotated[Path, typer.Argument(metavar="IN", help="Documents with mentions (any format).")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the linked documents.")],
    from_fmt: Annotated[str | None, typer.Option("--from", help="Input format; default: from the name of IN.")] = None,
    to_fmt: Annotated[str | None, typer.Option("--to", help="Output format; default: from the name of OUT.")] = None,
    alpha: AlphaOption = None,
    threshold: ThresholdOption = None,
    no_abbreviations: NoAbbreviationsOption = False,
    no_composite: NoCompositeOption = False,
) -> None:
    """Link the mentions of existing documents (gold, or another tool's predictions); their IDs are replaced."""
    from bioner.formats import guess_format, write_documents
    from bioner.formats.plain import read_input

    report = Report()
    docs = read_input(source, from_fmt, report)
    linker = _linker(index_dir, alpha, threshold, no_abbreviations, no_composite, report)
    linked = linker.link(docs, report)
    losses = write_documents(linked, target, to_fmt or guess_format(target))
    for line in [*report.lines(), *losses.lines()]:
        typer.echo(line, err=True)
    typer.echo(f"linked {len(linked)} documents; wrote {target}")
