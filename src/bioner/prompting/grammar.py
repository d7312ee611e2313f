"""Constrained local generation: the answer can only be the template's JSON, with mentions copied from the passage.

A small model asked for JSON often repeats the prompt or invents a format (Gemma 3 270M does
both). With the answer's grammar in hand, local generation masks every token that would leave
it: ``{"entities": [{"text": "<a substring of the passage>", "label": "<one of the labels>"},
...]}`` exactly as :func:`bioner.prompting.template.answer_json` writes it, then the end of the
sequence. So every answer parses, every label is one asked for and every mention is found in the
passage; what remains is whether the model picks the right ones. A mention cannot hold a quote,
a backslash or a control character (they would need JSON escapes), nor begin or end with a space.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

ITEM = '{"text": "'
HEAD = '{"entities": ['
BETWEEN = '", "label": "'
CLOSE_ITEM = '"}'
NEXT_ITEM = ", "
END = "]}"
FORBIDDEN = frozenset('"\\') | frozenset(chr(c) for c in range(32))


@dataclass(frozen=True)
class Literal:
    """Inside fixed text: ``text[at:]`` must come next, then ``then``."""

    text: str
    at: int
    then: State


@dataclass(frozen=True)
class Choice:
    """Before one of several fixed texts (they differ in their first character)."""

    options: tuple[tuple[str, State], ...]


@dataclass(frozen=True)
class Mention:
    """Inside a mention: ``ends`` are the passage positions where the text so far can end."""

    ends: frozenset[int]
    length: int


@dataclass(frozen=True)
class Label:
    """Inside a label: ``prefix`` so far."""

    prefix: str


@dataclass(frozen=True)
class Done:
    """The answer is complete: only the end of the sequence may follow."""


State = Literal | Choice | Mention | Label | Done


class AnswerGrammar:
    """The answers allowed for one passage and label set, stepped one character at a time."""

    def __init__(self, passage: str, labels: Sequence[str]) -> None:
        self.passage = passage
        self.labels = tuple(labels)
        # live[i]: a mention may take passage[i] and still end well (on a non-space, before a forbidden character)
        live = [False] * (len(passage) + 1)
        for i in range(len(passage) - 1, -1, -1):
            live[i] = passage[i] not in FORBIDDEN and (not passage[i].isspace() or live[i + 1])
        self.live = live
        first: dict[str, set[int]] = {}  # a mention's first character -> where the mention can end after it
        for i, c in enumerate(passage):
            if live[i] and not c.isspace():
                first.setdefault(c, set()).add(i + 1)
        self.first = {char: frozenset(ends) for char, ends in first.items()}
        self.mention = Mention(frozenset(), 0)
        items = ((ITEM, self.mention),) if self.first else ()
        self.after_item = Choice(((NEXT_ITEM + ITEM, self.mention), (END, Done())))
        self.start: State = Literal(HEAD, 0, Choice((*items, (END, Done()))))

    def moves(self, state: State) -> Iterator[tuple[str, State]]:
        """Every character allowed next, with the state it leads to."""
        if isinstance(state, Literal):
            nxt = state.then if state.at + 1 == len(state.text) else Literal(state.text, state.at + 1, state.then)
            yield state.text[state.at], nxt
        elif isinstance(state, Choice):
            for text, then in state.options:
                yield text[0], (then if len(text) == 1 else Literal(text, 1, then))
        elif isinstance(state, Mention):
            yield from self._mention_moves(state)
        elif isinstance(state, Label):
            size = len(state.prefix)
            following = {lb[size] for lb in self.labels if len(lb) > size and lb.startswith(state.prefix)}
            for char in sorted(following):
                yield char, Label(state.prefix + char)
            if state.prefix in self.labels:
                yield CLOSE_ITEM[0], Literal(CLOSE_ITEM, 1, self.after_item)

    def _mention_moves(self, state: Mention) -> Iterator[tuple[str, State]]:
        if state.length == 0:
            for char, ends in self.first.items():
                yield char, Mention(ends, 1)
            return
        by_char: dict[str, set[int]] = {}
        for end in state.ends:
            if end < len(self.passage) and self.live[end]:
                by_char.setdefault(self.passage[end], set()).add(end + 1)
        if not self.passage[next(iter(state.ends)) - 1].isspace():
            yield BETWEEN[0], Literal(BETWEEN, 1, Label(""))
        for char, following in by_char.items():
            yield char, Mention(frozenset(following), state.length + 1)

    def advance(self, state: State, text: str) -> State | None:
        """The state after ``text``, or ``None`` when the grammar does not allow it."""
        at: State | None = state
        for char in text:
            at = next((then for c, then in self.moves(at) if c == char), None) if at is not None else None
        return at


class TokenConstraint:
    """The token ids a grammar allows next, for a tokenizer's vocabulary (strings as they decode)."""

    def __init__(self, tokenizer: Any) -> None:
        pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        special = set(tokenizer.all_special_ids)
        self.ids: dict[str, int] = {}
        for i, piece in enumerate(pieces):
            if i in special or piece is None or piece.startswith("<0x"):
                continue
            self.ids.setdefault(piece.replace("▁", " "), i)
        self.prefixes = {text[:n] for text in self.ids for n in range(1, len(text))}
        self.eos = int(tokenizer.eos_token_id)

    def allowed(self, grammar: AnswerGrammar, state: State) -> dict[int, State]:
        """Token id -> the state it leads to, for every token the grammar allows from ``state``."""
        if isinstance(state, Done):
            return {self.eos: state}
        found: dict[int, State] = {}
        stack: list[tuple[str, State]] = [("", state)]
        while stack:
            text, at = stack.pop()
            for char, then in grammar.moves(at):
                longer = text + char
                token = self.ids.get(longer)
                if token is not None:
                    found[token] = then
                if longer in self.prefixes:
                    stack.append((longer, then))
        return found or {self.eos: Done()}  # a dead end (a passage ending in a space): stop, the parser salvages


class GrammarLogits:
    """A transformers logits processor keeping one sequence's answer inside its grammar."""

    def __init__(self, constraint: TokenConstraint, grammar: AnswerGrammar, prompt_length: int) -> None:
        self.constraint = constraint
        self.grammar = grammar
        self.prompt_length = prompt_length
        self.state: State = grammar.start
        self.allowed = constraint.allowed(grammar, self.state)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if input_ids.shape[1] > self.prompt_length:  # the token chosen last step
            self.state = self.allowed[int(input_ids[0, -1])]
            self.allowed = self.constraint.allowed(self.grammar, self.state)
        keep = torch.tensor(sorted(self.allowed), dtype=torch.long, device=scores.device)
        masked = torch.full_like(scores, float("-inf"))
        masked[:, keep] = scores[:, keep]
        return masked
