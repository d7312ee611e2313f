"""The llm-tagger backend on a tiny random Llama: it learns, tags every type, saves only adapters and head."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import torch

from bioner.corpora.naming import with_corpus
from bioner.errors import BionerError, Report
from bioner.formats import read_documents
from bioner.models.bidirectional import is_bidirectional
from bioner.models.instructions import Instance, instances_for, instruction
from bioner.models.llm_tagger import HEAD_FILE, LLMTagger
from bioner.models.lora import ADAPTER_DIR
from bioner.models.registry import load_model as load_tagger
from bioner.models.segments import WINDOWED
from bioner.training.config import Config, load_config
from bioner.training.loop import TrainResult
from bioner.training.recipe import fit
from bioner.types import Document, Entity

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"
TRAIN = [with_corpus(d, "toy") for d in read_documents(FIXTURES / "train.jsonl")]
DEV = [with_corpus(d, "toy") for d in read_documents(FIXTURES / "dev.jsonl")]
TEST = list(read_documents(FIXTURES / "test.jsonl"))


def _config(backbone: Path, *overrides: str) -> Config:
    return load_config(
        None,
        [
            "model.backend=llm-tagger",
            f"model.backbone={backbone}",
            "data.corpus=toy",
            "model.max_length=128",
            "model.window_overlap=16",
            "model.lora_r=8",
            "train.batch_size=4",
            "train.learning_rate=5e-3",
            "train.schedule=constant",
            "train.warmup_ratio=0",
            "train.epochs=3",
            "train.patience=0",
            *overrides,
        ],
    )


@dataclass
class Trained:
    tagger: LLMTagger
    result: TrainResult
    output: Path


@pytest.fixture(scope="module")
def trained(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    output = tmp_path_factory.mktemp("llm-run")
    tagger, result = fit(TRAIN, DEV, _config(tiny_llama), output)
    assert isinstance(tagger, LLMTagger)
    return Trained(tagger, result, output)


def test_instances_give_one_tagged_sentence_per_type() -> None:
    doc = Document(
        "d", "IL2 gene in leukemia", entities=(Entity(0, 3, "Gene", "IL2"), Entity(12, 20, "Disease", "leukemia"))
    )
    found = list(instances_for([doc], "toy", ["Gene", "Disease"]))
    assert [(x.label, x.tags) for x in found] == [("Gene", ("B", "O", "O", "O")), ("Disease", ("O", "O", "O", "B"))]
    assert found[0].words == ("IL2", "gene", "in", "leukemia")
    assert found[0].spans == ((0, 3), (4, 8), (9, 11), (12, 20))
    assert "toy" in found[0].instruction and "Gene" in found[0].instruction
    adapt = list(instances_for([doc], "toy", ["Gene"], "adapt"))
    assert adapt[0].instruction == instruction("Gene") and "toy" not in adapt[0].instruction
    assert next(instances_for([doc], "toy", ["Gene"], gold=False)).tags == ()


def test_an_instance_refuses_tags_that_do_not_fit_its_words() -> None:
    with pytest.raises(ValueError, match="2 tags for 1 words"):
        Instance("x", ("a",), ("B", "I"))
    with pytest.raises(ValueError, match="B, I or O"):
        Instance("x", ("a",), ("B-Gene",))


@pytest.mark.slow
def test_training_lowers_the_loss_and_saves_only_adapters_and_head(trained: Trained) -> None:
    losses = [e["train_loss"] for e in trained.result.epochs]
    assert losses[-1] < losses[0]
    assert (trained.output / ADAPTER_DIR / "adapter_model.safetensors").is_file()
    assert (trained.output / HEAD_FILE).is_file()
    base_bytes = sum(p.numel() * 4 for p in trained.tagger.peft_model().base_model.model.parameters())
    saved = sum(f.stat().st_size for f in trained.output.rglob("*.safetensors") if f.name != "checkpoint.safetensors")
    assert saved < base_bytes  # adapters + head, no copy of the base
    assert is_bidirectional(trained.tagger.peft_model())


@pytest.mark.slow
def test_only_adapters_and_head_are_trained(trained: Trained) -> None:
    module = trained.tagger.module
    assert module is not None
    trainable = {n for n, p in module.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    assert any(n.startswith("head.") for n in trainable)


@pytest.mark.slow
def test_predictions_are_valid_character_spans_of_every_type(trained: Trained) -> None:
    report = Report()
    predicted = trained.tagger.predict(TEST, report=report)  # no corpus name: the training corpus's types
    assert [(d.id, d.text) for d in predicted] == [(d.id, d.text) for d in TEST]
    for doc in predicted:
        for e in doc.entities:  # Document() already checked text == doc.text[start:end]
            assert e.label in {"Gene", "Disease"}
            assert e.score is not None and 0.0 < e.score <= 1.0
    assert not report.lines()
    unseen = trained.tagger.predict([with_corpus(d, "craft") for d in TEST], report=report)
    assert any("not trained on" in line for line in report.lines())  # type-only instructions
    assert all(e.label in {"Gene", "Disease"} for d in unseen for e in d.entities)


@pytest.mark.slow
def test_save_and_load_give_identical_predictions(trained: Trained) -> None:
    loaded = load_tagger(trained.output)
    assert isinstance(loaded, LLMTagger)
    docs = [with_corpus(d, "toy") for d in TEST + DEV]
    mine, theirs = trained.tagger.predict(docs), loaded.predict(docs)
    assert [d.entities for d in mine] == [d.entities for d in theirs]
    assert loaded.types == {"toy": ["Disease", "Gene"]}


@pytest.mark.slow
def test_a_sentence_longer_than_the_window_is_tagged_whole(trained: Trained) -> None:
    text = " ".join(["BRCA1 mutations cause cancer"] * 30)
    report = Report()
    tagger = trained.tagger
    settings = tagger.settings
    longest = max(len(tagger._prefix(instruction(label, "toy"))) for label in ("Gene", "Disease"))
    tagger.settings = replace(settings, max_length=longest + 24)
    try:
        [doc] = tagger.predict([with_corpus(Document("long", text), "toy")], report=report)
    finally:
        tagger.settings = settings
    assert any(WINDOWED in line for line in report.lines())
    assert all(text[e.start : e.end] == e.text for e in doc.entities)


@pytest.mark.slow
def test_labels_given_out_of_order_are_saved_in_one_order(tiny_llama: Path, tmp_path: Path) -> None:
    config = _config(tiny_llama, "model.labels=['Gene', 'Disease']", "train.max_steps=1")
    tagger, _ = fit(TRAIN[:2], [], config, tmp_path)
    assert isinstance(tagger, LLMTagger) and tagger.types == {"toy": ["Disease", "Gene"]}
    loaded = load_tagger(tmp_path)
    assert loaded.labels == ["Disease", "Gene"]
    assert loaded.predict(TEST) == tagger.predict(TEST)


def test_the_causal_ablation_keeps_the_mask(tiny_llama: Path, tmp_path: Path) -> None:
    tagger, _ = fit(TRAIN[:2], [], _config(tiny_llama, "model.bidirectional=false", "train.max_steps=1"), tmp_path)
    assert tagger.module is not None
    assert not is_bidirectional(tagger.module.backbone)


@pytest.mark.slow
def test_a_mixture_trains_one_model_with_types_per_corpus(tiny_llama: Path, tmp_path: Path) -> None:
    genes = [with_corpus(d.with_entities([e for e in d.entities if e.label == "Gene"]), "genes") for d in TRAIN]
    diseases = [
        with_corpus(d.with_entities([e for e in d.entities if e.label == "Disease"]), "diseases") for d in TRAIN
    ]
    config = _config(tiny_llama, "data.corpus=none", "train.epochs=1")
    tagger, _ = fit(genes + diseases, [], config, tmp_path)
    assert isinstance(tagger, LLMTagger)
    assert tagger.types == {"genes": ["Gene"], "diseases": ["Disease"]}
    [doc] = tagger.predict([with_corpus(TEST[0], "genes")])
    assert {e.label for e in doc.entities} <= {"Gene"}


def test_bad_backbones_and_model_folders_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(BionerError, match="does not exist"):
        fit(TRAIN, [], load_config(None, ["model.backbone=./missing"]), tmp_path / "out")
    with pytest.raises(BionerError, match="not an llm-tagger model folder"):
        LLMTagger.from_pretrained(tmp_path)
    with pytest.raises(BionerError, match="needs a CUDA GPU"):
        from bioner.models.llm_tagger import _quantization

        if torch.cuda.is_available():
            raise BionerError("needs a CUDA GPU")  # nothing to check on a GPU machine
        _quantization("4bit", torch.device("cpu"), Report())
