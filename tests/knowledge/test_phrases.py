"""Phrase mining: n-gram candidates within punctuation, stop-word edges, concordance-ranked."""

from __future__ import annotations

from pathlib import Path

from bioner.knowledge.phrases import PhraseMiner

TEXT = (Path(__file__).parents[1] / "fixtures" / "knowledge" / "sentences.txt").read_text()
SENTENCES = TEXT.splitlines()


def _mined(sentence: str, **options: float) -> dict[str, float]:
    miner = PhraseMiner(**options).fit(SENTENCES)  # type: ignore[arg-type]
    return {p.text: p.score for p in miner.mine(sentence)}


def test_spans_point_into_the_text_and_never_cross_punctuation_or_stop_word_edges() -> None:
    miner = PhraseMiner().fit(SENTENCES)
    sentence = SENTENCES[2]
    phrases = miner.mine(sentence)
    assert phrases
    for p in phrases:
        assert sentence[p.start : p.end] == p.text
        assert ";" not in p.text and "," not in p.text
        words = p.text.lower().split()
        assert words[0] not in {"of", "the", "a", "is"} and words[-1] not in {"of", "the", "a", "is"}
        assert len(words) <= 4
    texts = {p.text for p in phrases}
    assert {"cisplatin resistance", "Cisplatin"} <= texts
    assert "cancer; cisplatin" not in texts and "of the tumour" not in texts


def test_a_repeated_collocation_outranks_a_chance_one() -> None:
    scores = _mined(SENTENCES[1])
    assert scores["breast cancer"] > scores.get("cancer risk", -1.0)  # 3 times together vs. once


def test_names_with_inner_hyphens_stay_one_word() -> None:
    miner = PhraseMiner().fit(["The BRCA1-associated tumours grow.", "BRCA1-associated tumours again."])
    texts = [p.text for p in miner.mine("The BRCA1-associated tumours grow.")]
    assert "BRCA1-associated tumours" in texts
    assert "BRCA1" not in texts  # not a word of its own here
    assert texts[0] != "The"


def test_quality_threshold_and_limit() -> None:
    miner = PhraseMiner(min_quality=0.6).fit(SENTENCES)
    assert all(p.score >= 0.6 for p in miner.mine(SENTENCES[0]))
    assert len(PhraseMiner().fit(SENTENCES).mine(SENTENCES[1], limit=2)) == 2
    assert PhraseMiner().fit(SENTENCES).mine("Completely unseen words here.") == []
