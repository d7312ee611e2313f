"""The span backend (GLiNER) on a tiny random BERT: training, saving, labels at prediction time, windows, nesting."""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import bioner
import bioner.cli
from bioner.cli.app import app
from bioner.errors import BionerError, Report
from bioner.formats import read_documents, tsv
from bioner.models.registry import load_model
from bioner.models.span import WINDOWS, SpanTagger, plan_span_windows
from bioner.training.config import load_config
from bioner.training.loop import TrainResult
from bioner.training.recipe import fit
from bioner.types import Document, Entity

FIXTURES = Path(__file__).parents[1] / "fixtures"
TRAIN = list(read_documents(FIXTURES / "encoder" / "train.jsonl"))
DEV = list(read_documents(FIXTURES / "encoder" / "dev.jsonl"))
TEST = list(read_documents(FIXTURES / "encoder" / "test.jsonl"))
GENOVARDIS = FIXTURES / "span" / "genovardis"
TINY = ["model.hidden_size=32", "model.dropout=0.0", "model.max_len=24", "model.window_overlap=8", "model.max_width=8"]

bioner.cli.load_verbs()
runner = CliRunner()


@dataclass
class Trained:
    tagger: SpanTagger
    result: TrainResult
    output: Path


@pytest.fixture(scope="module")
def trained(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    output = tmp_path_factory.mktemp("span-run")
    config = load_config(
        None,
        [
            "model.backend=span",
            f"model.backbone={tiny_backbone}",
            *TINY,
            "train.batch_size=4",
            "train.learning_rate=3e-3",
            "train.epochs=3",
            "train.patience=0",
        ],
    )
    tagger, result = fit(TRAIN, DEV, config, output)
    assert isinstance(tagger, SpanTagger)
    return Trained(tagger, result, output)


def low_threshold(tagger: SpanTagger, threshold: float = 0.01, **changes: object) -> SpanTagger:
    """The tagger keeping nearly every span: a tiny model trained for seconds scores below GLiNER's 0.5."""
    tagger.settings = dataclasses.replace(tagger.settings, threshold=threshold, **changes)  # type: ignore[arg-type]
    return tagger


def overlapping(entities: tuple[Entity, ...]) -> list[tuple[Entity, Entity]]:
    return [(a, b) for i, a in enumerate(entities) for b in entities[i + 1 :] if a.overlaps(b)]


def test_training_lowers_the_loss_and_saves_safetensors_config_and_labels(trained: Trained) -> None:
    losses = [e["train_loss"] for e in trained.result.epochs]
    assert losses[-1] < losses[0]
    names = {p.name for p in trained.output.iterdir()}
    assert {"model.safetensors", "gliner_config.json", "labels.json", "config.toml", "history.json"} <= names
    assert not list(trained.output.rglob("*.bin")) and not list(trained.output.rglob("*.pt"))  # no pickles
    saved = json.loads((trained.output / "labels.json").read_text())
    assert saved["labels"] == ["Disease", "Gene"]
    assert trained.tagger.labels == ["Disease", "Gene"]


def test_a_saved_model_predicts_exactly_what_the_trained_one_did(trained: Trained) -> None:
    loaded = load_model(trained.output)
    assert isinstance(loaded, SpanTagger)
    ours = low_threshold(trained.tagger).predict(TEST)
    theirs = low_threshold(loaded).predict(TEST)
    assert [d.entities for d in ours] == [d.entities for d in theirs]
    assert sum(len(d.entities) for d in ours) > 0
    for doc in ours:
        assert {e.label for e in doc.entities} <= {"Disease", "Gene"}
        assert all(e.score is not None and 0.01 < e.score <= 1.0 for e in doc.entities)


def test_labels_given_out_of_order_are_saved_in_one_order(tiny_backbone: Path, tmp_path: Path) -> None:
    overrides = ["model.backend=span", f"model.backbone={tiny_backbone}", *TINY, "train.max_steps=1"]
    config = load_config(None, [*overrides, "model.labels=['Gene', 'Disease']"])
    tagger, _ = fit(TRAIN[:2], [], config, tmp_path)
    saved = json.loads((tmp_path / "labels.json").read_text())
    assert saved["labels"] == ["Disease", "Gene"] and saved["labels_by_corpus"] == {"": ["Disease", "Gene"]}
    loaded = load_model(tmp_path)
    assert loaded.labels == ["Disease", "Gene"]
    assert loaded.predict(TEST) == tagger.predict(TEST)


def test_a_head_learning_rate_trains_gliners_span_and_label_layers_not_its_encoder(tiny_backbone: Path) -> None:
    from bioner.training.loop import parameter_groups
    from bioner.training.recipe import new_model, prepare_data

    config = load_config(None, ["model.backend=span", f"model.backbone={tiny_backbone}", *TINY])
    data = prepare_data(TRAIN[:2], config, Report())
    model = new_model(dataclasses.replace(config, model=dataclasses.replace(config.model, labels=data.labels)))
    task = model.prepare(data, Report())
    rates = {}
    for group in parameter_groups(task.module, 0.01, 1e-5, head_learning_rate=1e-3, backbone=task.backbone):
        for param in group["params"]:
            rates[next(n for n, p in task.module.named_parameters() if p is param)] = group["lr"]
    encoder = {n: r for n, r in rates.items() if ".embeddings." in n or ".encoder.layer." in n}
    head = {n: r for n, r in rates.items() if n.split(".")[1] in {"rnn", "span_rep_layer", "prompt_rep_layer"}}
    assert encoder and all(n.startswith("model.token_rep_layer.") for n in encoder)
    assert set(encoder.values()) == {1e-5}  # the embeddings too: GLiNER keeps them under token_rep_layer
    assert head and set(head.values()) == {1e-3}


def test_prediction_on_a_cpu_is_fp32_unless_bf16_is_asked_for(
    trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bioner.models.device as device

    monkeypatch.setattr(device, "inference_bf16", lambda *_: True)  # as on a CPU with AMX
    used: list[bool] = []
    real = device.autocast

    def recording(where: Any, enabled: bool) -> Any:
        used.append(enabled)
        return real(where, enabled)

    monkeypatch.setattr(device, "autocast", recording)
    tagger, saved = trained.tagger, trained.tagger.runtime
    try:
        for precision, expected in (("auto", False), ("bf16", True)):
            tagger.runtime = dataclasses.replace(saved, device="cpu", precision=precision)
            used.clear()
            tagger.predict(TEST[:1])
            assert used and set(used) == {expected}
    finally:
        tagger.runtime = saved


def test_labels_given_at_prediction_time_are_tagged(trained: Trained) -> None:
    tagger = bioner.load(trained.output)
    low_threshold(tagger.model)  # type: ignore[arg-type]
    doc = tagger("Mutations in BRCA1 cause breast cancer in mice.", labels=["species", "chemical"])
    assert doc.entities and {e.label for e in doc.entities} <= {"species", "chemical"}
    with pytest.raises(BionerError, match="read the same prompt"):
        low_threshold(trained.tagger, prompts=["Gene=gene"]).predict(TEST, labels=["Gene", "gene"])
    low_threshold(trained.tagger, prompts=[])


def test_flat_output_by_default_and_nested_on_request(trained: Trained) -> None:
    flat = low_threshold(trained.tagger).predict(TEST)
    nested = low_threshold(trained.tagger, nested=True).predict(TEST)
    low_threshold(trained.tagger, nested=False)
    assert all(not overlapping(d.entities) for d in flat)
    pairs = [pair for d in nested for pair in overlapping(d.entities)]
    assert pairs  # nearly every span is kept, so spans nest
    for a, b in pairs:  # GLiNER's nested search keeps nesting, never crossing spans
        assert (a.start <= b.start and b.end <= a.end) or (b.start <= a.start and a.end <= b.end)
    assert sum(len(d.entities) for d in nested) > sum(len(d.entities) for d in flat)


def test_a_document_longer_than_max_len_is_tagged_to_its_end(trained: Trained) -> None:
    text = " ".join(d.text for d in TEST * 6)  # about 120 words: five windows of max_len 24
    long_doc = Document("long", text)
    report = Report()
    tagger = low_threshold(trained.tagger)
    entities = tagger.predict([long_doc], report=report)[0].entities
    tail = int(len(text) * 0.8)
    assert any(e.start >= tail for e in entities)
    assert report.warnings[WINDOWS] >= 5
    plain = tagger.gliner.predict_entities(text, ["Gene", "Disease"], threshold=0.01)  # GLiNER alone truncates
    assert not any(p["start"] >= tail for p in plain)


def test_windows_cover_every_word_keep_sentences_whole_and_overlap_where_cut() -> None:
    costs = [1] * 10 + [2] * 30  # sentences start at words 0, 4 and 10 (the last one 30 words long)
    windows, cut = plan_span_windows(costs, {0, 4, 10}, max_words=12, room=20, overlap=3)
    assert windows[0] == (0, 10)  # two whole sentences
    assert windows[-1][1] == 40 and cut == 1
    covered = {i for start, end in windows for i in range(start, end)}
    assert covered == set(range(40))
    for (_, end), (start, _) in itertools.pairwise(windows[1:]):
        assert end - start == 3  # cut inside the long sentence: three words shared
    assert all(end - start <= 12 and sum(costs[start:end]) <= 20 for start, end in windows)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.threshold=1.5", "model.threshold must be in (0, 1), got 1.5"),
        ('model.prompts=["Disease"]', "model.prompts items are 'LABEL=name', got 'Disease'"),
        ("model.window_overlap=300", "model.window_overlap must be between 0 and max_len / 2, got 300"),
        ("model.max_width=0", "model.max_width must be at least 1, got 0"),
        ("model.scheme=IOBES", "model.scheme is a setting of the encoder and generative backends, not of 'span'"),
    ],
)
def test_bad_settings_are_one_line_errors(override: str, message: str) -> None:
    with pytest.raises(BionerError) as caught:
        load_config(None, ["model.backend=span", override])
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_published_gliner_folder_is_used_zero_shot_and_needs_labels(trained: Trained, tmp_path: Path) -> None:
    trained.tagger.gliner.save_pretrained(tmp_path / "gliner", safe_serialization=True)
    zero_shot = SpanTagger.from_pretrained(tmp_path / "gliner")
    assert zero_shot.labels == [] and zero_shot.settings.max_len == 24
    with pytest.raises(BionerError, match="name the labels to tag"):
        zero_shot.predict(TEST)
    docs = low_threshold(zero_shot).predict(TEST, labels=["gene"])
    assert docs[0].entities and {e.label for e in docs[0].entities} == {"gene"}
    with pytest.raises(BionerError, match="cannot load GLiNER"):
        SpanTagger.from_pretrained(tmp_path / "missing-folder" / "x")


def test_genovardis_tables_train_predict_and_write_the_submission_table(tiny_backbone: Path, tmp_path: Path) -> None:
    config = tmp_path / "genovardis.toml"
    config.write_text(
        f"""[data]
train = "{GENOVARDIS / "train"}"
dev = "{GENOVARDIS / "test"}"
test = "{GENOVARDIS / "test"}"
format = "tsv"

[model]
backend = "span"
backbone = "{tiny_backbone}"
prompts = ["DNAMutation=mutación de ADN", "Gene=gen", "Disease=enfermedad"]
threshold = 0.05
hidden_size = 32
max_len = 24
window_overlap = 8
max_width = 8

[train]
epochs = 2
batch_size = 2
learning_rate = 3e-3
""",
        encoding="utf-8",
    )
    model = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(config), "--output", str(model), "-q"])
    assert trained.exit_code == 0, trained.output
    scored = runner.invoke(app, ["test", str(model), "-q", "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["documents"] == 2
    out = tmp_path / "submission"
    predicted = runner.invoke(
        app, ["predict", str(model), str(GENOVARDIS / "test"), str(out), "--from", "tsv", "--to", "tsv", "-q"]
    )
    assert predicted.exit_code == 0, predicted.output
    lines = (out / "annotations.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "pmid\tfilename\tlabel\toffset1\toffset2\tspan"  # the scorer's columns
    assert len(lines) > 1 and all(line.split("\t")[1].endswith(".ann") for line in lines[1:])
    back = list(tsv.read(out))  # offsets and spans are checked against the texts when read
    assert [d.id for d in back] == ["es-32000111.txt", "es-32000222.txt"]
    assert {e.label for d in back for e in d.entities} <= {"DNAMutation", "Gene", "Disease"}


def test_predict_cli_takes_labels_and_keeps_nested_spans(trained: Trained, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    low_threshold(trained.tagger).save(folder)  # the saved config.toml now holds threshold 0.01
    out = tmp_path / "out.jsonl"
    source = FIXTURES / "encoder" / "test.jsonl"
    args = ["predict", str(folder), str(source), str(out), "--labels", "gene, mutation", "-q"]
    flat = runner.invoke(app, args)
    assert flat.exit_code == 0, flat.output
    flat_docs = list(read_documents(out))
    nested = runner.invoke(app, [*args, "--nested"])
    assert nested.exit_code == 0, nested.output
    nested_docs = list(read_documents(out))
    labels = {e.label for d in nested_docs for e in d.entities}
    assert labels and labels <= {"gene", "mutation"}
    assert not any(overlapping(d.entities) for d in flat_docs)
    assert any(overlapping(d.entities) for d in nested_docs)
