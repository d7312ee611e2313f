"""Entity-level evaluation on character spans: the one scorer every backend and benchmark uses.

Gold and predicted documents are paired by id and scored with the four SemEval-2013
schemes (``strict``, ``exact``, ``partial``, ``type``), micro-averaged over documents,
overall, per label and per gold/predicted mention length (1, 2, 3+ word tokens). See
:mod:`bioner.evaluation.matching` for how mentions are paired (one-to-one, optimal,
order-free) and :mod:`bioner.evaluation.scores` for how slices are counted. A mention's
length is the number of word tokens of the gold document it touches, counted as corpus
statistics count them (:mod:`bioner.stats`: the source's whitespace tokens for
pre-tokenized corpora, else :func:`bioner.text.tokenize`), so that predicted and gold
mentions, and every model, are measured on the same tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bioner.evaluation.ids import IdScores, add_id_counts, id_scores_from
from bioner.evaluation.matching import SCHEMES
from bioner.evaluation.report import EvalReport
from bioner.evaluation.scores import Scores, Tally, matched_documents
from bioner.stats import LENGTH_BUCKETS, document_tokens, length_bucket, mention_token_counts
from bioner.timing import Timing
from bioner.types import Document

__all__ = ["LENGTH_BUCKETS", "SCHEMES", "EvalReport", "Scores", "evaluate"]


def evaluate(
    gold: Iterable[Document],
    pred: Iterable[Document],
    labels: Sequence[str] | None = None,
    timing: Timing | None = None,
    ids: bool = False,
) -> EvalReport:
    """Score ``pred`` against ``gold``.

    A gold document missing from the predictions counts all its mentions as missed; a
    predicted document the gold lacks, a repeated id or a changed text raises
    :class:`~bioner.errors.BionerError`. With ``labels``, only mentions of those labels
    are scored (the rest are counted in ``EvalReport.ignored``) and the per-label table
    lists exactly those labels; otherwise it lists every label seen, sorted. With ``ids``,
    the report also scores mentions end to end with their concept IDs
    (:mod:`bioner.evaluation.ids`).
    """
    overall, per_label, by_length = Tally(), Tally(), Tally()
    documents = unpredicted = 0
    seen: set[str] = set()
    ignored = {"gold": 0, "predicted": 0}
    id_totals: dict[str, list[int]] = {}
    for doc in matched_documents(gold, pred, labels):
        documents += 1
        unpredicted += not doc.predicted
        ignored["gold"] += doc.ignored_gold
        ignored["predicted"] += doc.ignored_pred
        gold_labels = [e.label for e in doc.gold]
        pred_labels = [e.label for e in doc.pred]
        seen.update(gold_labels, pred_labels)
        tokens = document_tokens(doc.document)
        gold_lengths = [length_bucket(n) for n in mention_token_counts(doc.gold, tokens)]
        pred_lengths = [length_bucket(n) for n in mention_token_counts(doc.pred, tokens)]
        for scheme, result in doc.matchings.items():
            overall.add_matching(scheme, result, [""] * len(doc.gold), [""] * len(doc.pred))
            per_label.add_matching(scheme, result, gold_labels, pred_labels)
            by_length.add_matching(scheme, result, gold_lengths, pred_lengths)
        if ids:
            add_id_counts(id_totals, doc)
    label_order = list(dict.fromkeys(labels)) if labels is not None else sorted(seen)
    id_report: IdScores | None = id_scores_from(id_totals, label_order) if ids else None
    return EvalReport(
        documents=documents,
        overall=overall.table([""])[""],
        per_label=per_label.table(label_order),
        by_length=by_length.table(LENGTH_BUCKETS),
        timing=timing,
        ignored=ignored,
        unpredicted=unpredicted,
        ids=id_report,
    )
