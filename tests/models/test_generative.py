"""The generative backend on a tiny random causal Llama: constrained answers always align, it learns, saves, loads."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bioner.corpora.naming import with_corpus
from bioner.errors import BionerError, Report
from bioner.formats import read_documents
from bioner.models.base import Runtime
from bioner.models.generative import (
    INVALID_TAGS,
    MISALIGNED,
    GenerativeSettings,
    GenerativeTagger,
    TagAutomaton,
    TagCodes,
    parse_answer,
    quantization_config,
)
from bioner.models.lora import ADAPTER_DIR
from bioner.models.registry import load_model
from bioner.training.config import Config, load_config
from bioner.training.loop import TrainResult
from bioner.training.recipe import fit
from bioner.views import decode

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"
TRAIN = [with_corpus(d, "toy") for d in read_documents(FIXTURES / "train.jsonl")]
DEV = [with_corpus(d, "toy") for d in read_documents(FIXTURES / "dev.jsonl")]
TEST = list(read_documents(FIXTURES / "test.jsonl"))
LABELS = ["Disease", "Gene", "GeneOrGeneProduct"]


def _config(backbone: Path, *overrides: str) -> Config:
    return load_config(
        None,
        [
            "model.backend=generative",
            f"model.backbone={backbone}",
            "data.corpus=toy",
            "model.lora_r=8",
            "model.max_words=12",
            "train.batch_size=4",
            "train.learning_rate=5e-3",
            "train.schedule=constant",
            "train.warmup_ratio=0",
            "train.epochs=3",
            "train.patience=0",
            *overrides,
        ],
    )


class FakeTokenizer:
    """Spells tags with made-up, overlapping token sequences (one a prefix of another), to stress the automaton."""

    eos_token_id = 0
    unk_token_id = None

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        prefix, _, label = text.strip().partition("-")
        ids = [{"O": 1, "B": 2, "I": 3, "E": 4, "S": 5}[prefix]]
        if label:
            ids += [10 + len(label) % 3] + [20 + ord(c) % 7 for c in label]  # "Gene" prefixes "GeneOrGeneProduct"
        return {"input_ids": ids}


@settings(max_examples=150, deadline=None)
@given(
    scheme=st.sampled_from(["IOB2", "IOBES"]),
    words=st.integers(min_value=0, max_value=12),
    choices=st.lists(st.integers(min_value=0, max_value=10_000), min_size=200, max_size=200),
)
def test_the_automaton_yields_a_valid_tag_per_word_whatever_token_is_chosen(
    scheme: str, words: int, choices: list[int]
) -> None:
    codes = TagCodes.build(FakeTokenizer(), LABELS, scheme, special=False)
    automaton = TagAutomaton(codes, words)
    for choice in choices:
        allowed = automaton.allowed()
        assert allowed  # never a dead end
        if automaton.done:
            assert allowed == [codes.eos]
            break
        automaton.advance(allowed[choice % len(allowed)])
    assert automaton.done and len(automaton.tags) == words
    report = Report()
    decode([(i, i + 1) for i in range(words)], automaton.tags, "x" * words, scheme, report)
    assert not report.lines()  # no invalid transition


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**16), scheme=st.sampled_from(["IOB2", "IOBES"]))
def test_constrained_generation_aligns_with_random_weights(tiny_causal: Path, seed: int, scheme: str) -> None:
    torch.manual_seed(seed)
    model = GenerativeTagger(GenerativeSettings(backbone=str(tiny_causal), labels=LABELS, scheme=scheme))
    model.build(None, None)
    for param in model._ready().parameters():  # random weights, and LoRA's zero B matrices made random too
        param.data.normal_(0, 1)
    report = Report()
    predicted = model.predict(TEST, report=report)
    parts = model.parts(TEST, Report(), gold=False)
    assert model.stats.answers == len(parts)
    assert not any(INVALID_TAGS in line or MISALIGNED in line for line in report.lines() if not line.endswith(": 0"))
    assert "invalid tag transitions" not in " ".join(report.lines())
    for doc, original in zip(predicted, TEST, strict=True):
        assert doc.text == original.text
        assert all(doc.text[e.start : e.end] == e.text and e.label in LABELS for e in doc.entities)


def test_free_answers_are_parsed_and_their_problems_flagged() -> None:
    codes = TagCodes.build(FakeTokenizer(), ["Gene"], "IOB2", special=False)
    assert parse_answer("B-Gene I-Gene O", codes, 3, special=False) == (["B-Gene", "I-Gene", "O"], False, False)
    assert parse_answer("I-Gene O", codes, 2, special=False)[1:] == (True, False)  # I after nothing
    assert parse_answer("B-Gene Foo", codes, 2, special=False) == (["B-Gene", "O"], True, False)
    assert parse_answer("O", codes, 3, special=False) == (["O", "O", "O"], False, True)
    assert parse_answer("<B-Gene><O>", codes, 2, special=True) == (["B-Gene", "O"], False, False)


def test_settings_refuse_bad_choices_and_4bit_off_cuda() -> None:
    problems = GenerativeSettings(tag_tokens="emoji", max_words=0).problems()
    assert any("tag_tokens" in p for p in problems) and any("max_words" in p for p in problems)
    with pytest.raises(BionerError, match="needs a CUDA GPU"):
        quantization_config("4bit", torch.device("cpu"))
    assert quantization_config("none", torch.device("cpu")) is None


@dataclass
class Trained:
    model: GenerativeTagger
    result: TrainResult
    output: Path


@pytest.fixture(scope="module", params=["text", "special"])
def trained(request: pytest.FixtureRequest, tiny_causal: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    output = tmp_path_factory.mktemp(f"generative-{request.param}")
    model, result = fit(TRAIN, DEV, _config(tiny_causal, f"model.tag_tokens={request.param}"), output)
    assert isinstance(model, GenerativeTagger)
    return Trained(model, result, output)


@pytest.mark.slow
def test_training_lowers_the_loss_and_the_saved_model_predicts_the_same(trained: Trained) -> None:
    losses = [e["train_loss"] for e in trained.result.epochs]
    assert losses[-1] < losses[0]
    assert (trained.output / ADAPTER_DIR / "adapter_model.safetensors").is_file()
    before = trained.model.predict(TEST)
    loaded = load_model(trained.output, runtime=Runtime(batch_size=2))
    assert isinstance(loaded, GenerativeTagger)
    after = loaded.predict(TEST)
    assert [d.entities for d in after] == [d.entities for d in before]
    if trained.model.settings.tag_tokens == "special":
        from safetensors.torch import load_file

        saved = load_file(trained.output / ADAPTER_DIR / "adapter_model.safetensors")
        assert any("trainable_tokens" in name for name in saved)  # the tag tokens' embeddings
        words = sum(len(p.words) for p in loaded.parts(TEST, Report(), gold=False))
        assert loaded.stats.steps == words + loaded.stats.answers  # one token per tag, then the end token


@pytest.mark.slow
def test_unconstrained_decoding_counts_bad_answers(trained: Trained) -> None:
    trained.model.settings.constrained = False
    try:
        report = Report()
        predicted = trained.model.predict(TEST, report=report)
    finally:
        trained.model.settings.constrained = True
    assert trained.model.stats.answers > 0
    assert any("answers generated" in line for line in report.lines())
    for doc in predicted:
        assert all(doc.text[e.start : e.end] == e.text for e in doc.entities)


@pytest.mark.slow
def test_train_and_predict_from_the_command_line(tiny_causal: Path, tmp_path: Path) -> None:
    output = tmp_path / "model"
    config = tmp_path / "generative.toml"
    train_file = tmp_path / "train.jsonl"
    train_file.write_text((FIXTURES / "train.jsonl").read_text())
    config.write_text(
        "[data]\n"
        f'train = "{train_file}"\n'
        f'dev = "{FIXTURES / "dev.jsonl"}"\n'
        "[model]\n"
        'backend = "generative"\n'
        f'backbone = "{tiny_causal}"\n'
        "lora_r = 4\n"
        "[train]\n"
        "epochs = 1\n"
        "batch_size = 4\n"
    )
    bioner = [sys.executable, "-m", "bioner"]
    result = subprocess.run([*bioner, "train", str(config), "--output", str(output)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    predicted = tmp_path / "predicted.jsonl"
    test = str(FIXTURES / "test.jsonl")
    result = subprocess.run(
        [*bioner, "predict", str(output), test, str(predicted), "-q"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    docs = list(read_documents(predicted))
    assert [d.text for d in docs] == [d.text for d in TEST]
    assert all(d.text[e.start : e.end] == e.text for d in docs for e in d.entities)
