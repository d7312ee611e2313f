"""The answer grammar of constrained local generation: only the template's JSON, mentions from the passage."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bioner.errors import Report
from bioner.models.prompted import PromptedSettings, PromptedTagger
from bioner.prompting.clients import TransformersClient
from bioner.prompting.grammar import AnswerGrammar, Done, State, TokenConstraint
from bioner.prompting.parse import parse_answer
from bioner.prompting.template import answer_json
from bioner.types import Document

PASSAGE = 'Mutations in BRCA1 cause "breast cancer".'
LABELS = ["Gene", "Disease"]


def test_the_templates_own_answer_is_accepted_to_the_end() -> None:
    grammar = AnswerGrammar(PASSAGE, LABELS)
    answer = answer_json([("BRCA1", "Gene"), ("breast cancer", "Disease"), ("BRCA1", "Gene")])
    assert isinstance(grammar.advance(grammar.start, answer), Done)
    assert isinstance(grammar.advance(grammar.start, answer_json([])), Done)


def test_mentions_not_in_the_passage_labels_outside_the_set_and_other_formats_are_refused() -> None:
    grammar = AnswerGrammar(PASSAGE, LABELS)
    for answer in (
        answer_json([("BRCA2", "Gene")]),  # not in the passage
        answer_json([("BRCA1", "Protein")]),  # not a label asked for
        answer_json([(" BRCA1", "Gene")]),  # leading space
        answer_json([('cancer"', "Disease")]),  # a quote would need an escape
        answer_json([("", "Gene")]),  # empty
        '{"entities":[]}',  # another spacing
        "Sure! Here are the entities:",
    ):
        assert grammar.advance(grammar.start, answer) is None, answer


@settings(max_examples=60, deadline=None)
@given(
    passage=st.text(alphabet=st.sampled_from('ab c"\\\n.é'), min_size=1, max_size=30),
    labels=st.lists(st.sampled_from(["A", "AB", "B", "Gene"]), min_size=1, max_size=3, unique=True),
    seed=st.integers(0, 10_000),
)
def test_every_complete_walk_is_json_with_mentions_from_the_passage(passage: str, labels: list[str], seed: int) -> None:
    """A random walk through the grammar's moves, when it completes, is an answer the parser reads whole."""
    grammar = AnswerGrammar(passage, labels)
    rng = random.Random(seed)
    state: State = grammar.start
    text = ""
    for _ in range(400):
        if isinstance(state, Done):
            break
        moves = list(grammar.moves(state))
        assert moves, f"dead end after {text!r}"
        char, state = rng.choice(moves)
        text += char
    if not isinstance(state, Done):
        return
    data = json.loads(text)
    for item in data["entities"]:
        assert item["text"] in passage and item["text"] == item["text"].strip() and item["text"]
        assert item["label"] in labels
    report = Report()
    assert len(parse_answer(text, labels, report)) == len({(i["text"], i["label"]) for i in data["entities"]})


class Pieces:
    """A tokenizer's vocabulary, as far as TokenConstraint reads it."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.all_special_ids = [0]
        self.eos_token_id = 0

    def __len__(self) -> int:
        return len(self.pieces)

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.pieces[i] for i in ids]


def test_tokens_are_allowed_only_where_the_grammar_goes_even_across_its_parts() -> None:
    pieces = [
        "<eos>",
        '{"entities": [',
        '{"text": "',
        "BR",
        "CA",
        "1",
        "BRCA1",
        "X",
        '", "label": "',
        "Gene",
        '"}',
        "]}",
        '"}]}',
        "▁cause",
    ]
    constraint = TokenConstraint(Pieces(pieces))
    grammar = AnswerGrammar("BRCA1 cause", ["Gene"])
    ids = {p: i for i, p in enumerate(pieces)}

    def allowed_after(text: str) -> set[str]:
        state = grammar.advance(grammar.start, text)
        assert state is not None
        return {pieces[i] for i in constraint.allowed(grammar, state)}

    assert allowed_after("") == {'{"entities": ['}
    assert allowed_after('{"entities": [') == {'{"text": "', "]}"}
    assert allowed_after('{"entities": [{"text": "') == {"BR", "BRCA1", "CA", "1"}  # not " cause": no leading space
    assert allowed_after('{"entities": [{"text": "BR') == {"CA", '", "label": "'}  # "BR" is a mention too
    assert allowed_after('{"entities": [{"text": "BRCA1') == {'", "label": "', "▁cause"}
    assert allowed_after('{"entities": [{"text": "BRCA1", "label": "Gene') == {'"}', '"}]}'}
    done = grammar.advance(grammar.start, '{"entities": []}')
    assert done is not None and constraint.allowed(grammar, done) == {ids["<eos>"]: done}


def test_constrained_generation_with_a_random_model_still_answers_in_the_grammar(tiny_gemma: Path) -> None:
    client = TransformersClient(str(tiny_gemma), max_new_tokens=40)
    doc = Document("d", "BRCA1 mutations cause breast cancer.")
    grammar = AnswerGrammar(doc.text, LABELS)
    answer = client.complete([{"role": "user", "content": "Find genes and diseases."}], None, grammar)
    assert answer.text and grammar.advance(grammar.start, answer.text) is not None  # a prefix of a valid answer
    unconstrained = client.complete([{"role": "user", "content": "Find genes and diseases."}], None)
    assert grammar.advance(grammar.start, unconstrained.text) is None  # random weights: anything but the JSON


def test_the_prompted_backend_constrains_local_generation_and_keys_the_cache_by_it(
    tiny_gemma: Path, tmp_path: Path
) -> None:
    doc = Document("d", "BRCA1 mutations cause breast cancer.")
    for constrained in (True, False):
        settings = PromptedSettings(
            model=str(tiny_gemma), cache=str(tmp_path), max_new_tokens=30, constrained=constrained
        )
        report = Report()
        [out] = PromptedTagger(settings).predict([doc], labels=LABELS, report=report)
        assert report.warnings["LLM requests sent"] == 1  # not the other setting's cached answer
        assert all(doc.text[e.start : e.end] == e.text for e in out.entities)
