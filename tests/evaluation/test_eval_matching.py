"""Hand-computed matchings (nested, many-to-one, ties) and properties: optimal and order-free."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from nervaluate import Evaluator

from bioner.evaluation.evaluate import SCHEMES, evaluate
from bioner.evaluation.matching import Matching, Scheme, match
from bioner.types import Document, Entity, entity_at

TEXT = "BRCA1 and BRCA2 carriers develop hereditary breast cancer."


def ent(mention: str, label: str, text: str = TEXT) -> Entity:
    start = text.index(mention)
    return entity_at(text, start, start + len(mention), label)


def counts(gold: list[Entity], pred: list[Entity], text: str = TEXT) -> dict[str, tuple[int, ...]]:
    report = evaluate([Document("d", text, tuple(gold))], [Document("d", text, tuple(pred))])
    return {scheme: (s.correct, s.incorrect, s.partial, s.missed, s.spurious) for scheme, s in report.overall.items()}


def test_a_prediction_of_the_inner_mention_of_a_nest_matches_it_exactly() -> None:
    gold = [ent("hereditary breast cancer", "Disease"), ent("breast cancer", "Disease")]
    pred = [ent("breast cancer", "Disease")]
    #                      correct, incorrect, partial, missed, spurious
    assert counts(gold, pred) == {
        "strict": (1, 0, 0, 1, 0),
        "exact": (1, 0, 0, 1, 0),
        "partial": (1, 0, 0, 1, 0),
        "type": (1, 0, 0, 1, 0),
    }


def test_one_prediction_covering_two_gold_mentions_matches_one_of_them() -> None:
    gold = [ent("BRCA1", "Gene"), ent("BRCA2", "Gene")]
    pred = [ent("BRCA1 and BRCA2", "Gene")]
    assert counts(gold, pred) == {
        "strict": (0, 1, 0, 1, 0),
        "exact": (0, 1, 0, 1, 0),
        "partial": (0, 0, 1, 1, 0),
        "type": (1, 0, 0, 1, 0),
    }
    report = evaluate([Document("d", TEXT, tuple(gold))], [Document("d", TEXT, tuple(pred))])
    partial, kind = report.overall["partial"], report.overall["type"]
    assert (partial.precision, partial.recall) == (0.5, 0.25)
    assert (kind.precision, kind.recall) == (1.0, 0.5)


def test_two_predictions_inside_one_gold_mention_the_larger_overlap_is_matched() -> None:
    gold = [ent("hereditary breast cancer", "Disease")]
    pred = [ent("hereditary", "Disease"), ent("breast cancer", "Disease")]
    assert counts(gold, pred) == {
        "strict": (0, 1, 0, 0, 1),
        "exact": (0, 1, 0, 0, 1),
        "partial": (0, 0, 1, 0, 1),
        "type": (1, 0, 0, 0, 1),
    }
    # by length: the gold mention (3 tokens) is matched to "breast cancer" (2 tokens), a pair across buckets
    report = evaluate([Document("d", TEXT, tuple(gold))], [Document("d", TEXT, tuple(pred))])
    by_length = {b: (s["type"].correct, s["type"].missed, s["type"].spurious) for b, s in report.by_length.items()}
    assert by_length == {"1": (0, 0, 1), "2": (0, 0, 1), "3+": (0, 1, 0)}


def test_exact_matches_win_over_overlaps_whatever_the_order_where_greedy_matching_loses_one() -> None:
    text = "abcdefgh"
    g1, g2 = entity_at(text, 0, 3, "A"), entity_at(text, 2, 6, "A")
    p1, p2 = entity_at(text, 1, 4, "A"), entity_at(text, 2, 6, "A")
    # nervaluate's greedy matching depends on the order of the gold list (its issue #40) ...
    greedy = [
        Evaluator([[_nv(g) for g in gold]], [[_nv(p1), _nv(p2)]], tags=["A"], loader="dict").evaluate()
        for gold in ([g1, g2], [g2, g1])
    ]
    assert [r["overall"]["strict"].correct for r in greedy] == [1, 0]
    # ... the optimal matching does not
    assert counts([g1, g2], [p1, p2], text)["strict"] == (1, 1, 0, 0, 0)
    assert counts([g2, g1], [p2, p1], text)["strict"] == (1, 1, 0, 0, 0)


def _nv(e: Entity) -> dict[str, object]:
    return {"label": e.label, "start": e.start, "end": e.end - 1}


def test_partial_scheme_prefers_an_exact_match_to_two_partial_ones_of_equal_credit() -> None:
    text = "abcdefgh"
    g1, g2 = entity_at(text, 0, 4, "A"), entity_at(text, 3, 6, "A")
    p1, p2 = entity_at(text, 0, 4, "A"), entity_at(text, 0, 2, "A")
    # {p1-g1} earns 1, {p1-g2, p2-g1} earns 0.5 + 0.5: same credit, the exact match is kept
    assert counts([g1, g2], [p1, p2], text)["partial"] == (1, 0, 0, 1, 1)


def test_identical_gold_spans_with_two_labels_match_the_prediction_of_the_same_label() -> None:
    gold = [ent("BRCA1", "Gene"), ent("BRCA1", "Chemical")]
    pred = [ent("BRCA1", "Chemical")]
    report = evaluate([Document("d", TEXT, tuple(gold))], [Document("d", TEXT, tuple(pred))])
    assert report.per_label["Chemical"]["exact"].correct == 1
    assert report.per_label["Gene"]["exact"].missed == 1
    assert report.per_label["Gene"]["exact"].spurious == 0


def test_a_type_mismatch_counts_as_missed_and_spurious_in_per_label_tables() -> None:
    gold = [ent("BRCA1", "Gene")]
    pred = [ent("BRCA1", "Chemical")]
    report = evaluate([Document("d", TEXT, tuple(gold))], [Document("d", TEXT, tuple(pred))])
    assert report.overall["exact"].correct == 1
    assert report.overall["strict"].incorrect == 1
    for scheme in SCHEMES:
        gene, chemical = report.per_label["Gene"][scheme], report.per_label["Chemical"][scheme]
        assert (gene.correct, gene.missed, gene.spurious) == (0, 1, 0)
        assert (chemical.correct, chemical.missed, chemical.spurious) == (0, 0, 1)


# --- properties -------------------------------------------------------------------------------------------

LABELS = ("A", "B")
BASE = "ab c-d ef g.h ij k lm n-o pq rs tu"
"""34 characters of short tokens and punctuation, so mentions fall in every length bucket."""


@st.composite
def mentions(draw: st.DrawFn, max_size: int = 6) -> list[Entity]:
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, 25), st.integers(1, 6), st.sampled_from(LABELS)),
            max_size=max_size,
        )
    )
    return [entity_at(BASE, s, s + n, label) for s, n, label in spans]


def _outcomes(result: Matching, gold: list[Entity], pred: list[Entity]) -> list[tuple[object, ...]]:
    """The matching in terms of entity keys, comparable across permutations of the inputs."""

    def key(e: Entity) -> tuple[int, int, str]:
        return (e.start, e.end, e.label)

    out: list[tuple[object, ...]] = [(key(gold[g]), key(pred[p]), o) for g, p, o in result.pairs]
    out += [(key(gold[g]), None, "missed") for g in result.missed]
    out += [(None, key(pred[p]), "spurious") for p in result.spurious]
    return sorted(out, key=repr)


@settings(max_examples=150, deadline=None)
@given(mentions(), mentions(), st.randoms(use_true_random=False), st.sampled_from(SCHEMES))
def test_matching_does_not_depend_on_the_order_of_entities(
    gold: list[Entity], pred: list[Entity], rnd: random.Random, scheme: Scheme
) -> None:
    shuffled_gold, shuffled_pred = rnd.sample(gold, len(gold)), rnd.sample(pred, len(pred))
    assert _outcomes(match(gold, pred, scheme), gold, pred) == _outcomes(
        match(shuffled_gold, shuffled_pred, scheme), shuffled_gold, shuffled_pred
    )


def _credit(result: Matching) -> float:
    return sum(1.0 if o == "correct" else 0.5 if o == "partial" else 0.0 for *_, o in result.pairs)


def _best_credit(gold: list[Entity], pred: list[Entity], scheme: Scheme) -> tuple[float, int]:
    """(credit, matched pairs) of the best one-to-one matching, by trying them all."""
    best = (0.0, 0)
    small, large, flip = (gold, pred, False) if len(gold) <= len(pred) else (pred, gold, True)
    for chosen in itertools.permutations([*range(len(large)), *[None] * len(small)], len(small)):
        credit, pairs = 0.0, 0
        for i, j in enumerate(chosen):
            if j is None:
                continue
            g, p = (large[j], small[i]) if flip else (small[i], large[j])
            if not g.overlaps(p):
                break
            same_span, same_label = g.span == p.span, g.label == p.label
            credit += {
                "strict": float(same_span and same_label),
                "exact": float(same_span),
                "partial": 1.0 if same_span else 0.5,
                "type": float(same_label),
            }[scheme]
            pairs += 1
        else:
            best = max(best, (credit, pairs))
    return best


@settings(max_examples=150, deadline=None)
@given(mentions(max_size=4), mentions(max_size=4), st.sampled_from(SCHEMES))
def test_matching_is_optimal(gold: list[Entity], pred: list[Entity], scheme: Scheme) -> None:
    result = match(gold, pred, scheme)
    assert len(result.pairs) + len(result.missed) == len(gold)
    assert len(result.pairs) + len(result.spurious) == len(pred)
    assert all(gold[g].overlaps(pred[p]) for g, p, _ in result.pairs)
    assert len({g for g, *_ in result.pairs}) == len({p for _, p, _ in result.pairs}) == len(result.pairs)
    best_credit, best_pairs = _best_credit(gold, pred, scheme)
    assert _credit(result) == best_credit
    if scheme != "partial":  # partial trades pairs for exact matches at equal credit
        assert len(result.pairs) == best_pairs


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(mentions(), mentions(), st.booleans()), min_size=1, max_size=4),
    st.randoms(use_true_random=False),
)
def test_reports_do_not_depend_on_the_order_of_documents_or_entities(
    docs: list[tuple[list[Entity], list[Entity], bool]], rnd: random.Random
) -> None:
    gold = [Document(f"d{i}", BASE, tuple(g)) for i, (g, _, _) in enumerate(docs)]
    pred = [Document(f"d{i}", BASE, tuple(p)) for i, (_, p, present) in enumerate(docs) if present]
    shuffled_gold = [Document(d.id, d.text, tuple(rnd.sample(d.entities, len(d.entities)))) for d in gold]
    shuffled_pred = [Document(d.id, d.text, tuple(rnd.sample(d.entities, len(d.entities)))) for d in pred]
    rnd.shuffle(shuffled_gold)
    rnd.shuffle(shuffled_pred)
    assert evaluate(gold, pred).to_dict() == evaluate(shuffled_gold, shuffled_pred).to_dict()


def test_a_cluster_too_large_for_every_tie_break_still_matches_optimally() -> None:
    # 300 long mutually overlapping mentions a side: the overlap-length tie-break no longer fits in a float64
    # weight and is left out; credit and pair count still decide
    text = "x" * 10_400
    gold = [entity_at(text, i, 10_000 + i, "A") for i in range(300)]
    pred = [entity_at(text, i, 10_000 + i + i % 2, "A") for i in range(300)]
    assert counts(gold, pred, text)["strict"] == (150, 150, 0, 0, 0)
    assert counts(gold, pred, text)["partial"] == (150, 0, 150, 0, 0)
