"""``bioner train``, ``bioner predict`` and ``bioner test`` on a tiny JSONL corpus and a tiny random BERT."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import bioner.cli
from bioner.cli.app import app
from bioner.formats import read_documents

if TYPE_CHECKING:
    from conftest import RunMain  # tests/cli/conftest.py, for the annotations only


FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"
CONFIGS = Path(__file__).parents[2] / "configs"
DATA = f"""[data]
train = "{FIXTURES / "train.jsonl"}"
dev = "{FIXTURES / "dev.jsonl"}"
test = "{FIXTURES / "test.jsonl"}"
"""
"""The ``[data]`` table of a config trained on the fixtures."""

bioner.cli.load_verbs()
runner = CliRunner()


def _write_config(folder: Path, backbone: Path) -> Path:
    config = folder / "tiny.toml"
    config.write_text(
        f"""{DATA}
[model]
backbone = "{backbone}"

[train]
epochs = 2
batch_size = 4
learning_rate = 3e-3
"""
    )
    return config


@pytest.fixture(scope="module")
def model(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    output = folder / "model"
    result = runner.invoke(app, ["train", str(_write_config(folder, tiny_backbone)), "--output", str(output), "-q"])
    assert result.exit_code == 0, result.output
    assert "best epoch" in result.stdout and "model saved to" in result.stdout
    return output


def test_train_writes_model_config_history_and_curves(model: Path) -> None:
    history = json.loads((model / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]
    assert (model / "learning_curve.png").is_file() and (model / "checkpoint.safetensors").is_file()
    saved = (model / "config.toml").read_text()
    assert 'labels = [\n    "Disease",\n    "Gene",\n]' in saved or 'labels = ["Disease", "Gene"]' in saved
    assert "max_length = 64" in saved  # resolved: capped at the tiny backbone's 64 positions


def test_predict_jsonl_to_jsonl_with_timing(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["predict", str(model), str(FIXTURES / "test.jsonl"), str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "tagged 3 documents" in result.stdout
    gold = list(read_documents(FIXTURES / "test.jsonl"))
    predicted = list(read_documents(out))
    assert [(d.id, d.text) for d in predicted] == [(d.id, d.text) for d in gold]
    timing = json.loads((tmp_path / "pred.jsonl.timing.json").read_text())
    assert timing["documents"] == 3 and timing["tokens"] > 0


def test_predict_plain_text_lines_and_folders(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "lines.jsonl"
    result = runner.invoke(app, ["predict", str(model), str(FIXTURES / "plain.txt"), str(out), "-q"])
    assert result.exit_code == 0, result.output
    docs = list(read_documents(out))
    assert [d.id for d in docs] == ["plain:1", "plain:3"]  # one document per non-blank line
    assert docs[1].text == "CFTR defects lead to cystic fibrosis."
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("BRCA1 and cancer.\nSecond line of the same document.\n")
    (folder / "b.txt").write_text("TP53.")
    result = runner.invoke(app, ["predict", str(model), str(folder), str(tmp_path / "folder.jsonl"), "-q"])
    assert result.exit_code == 0, result.output
    docs = list(read_documents(tmp_path / "folder.jsonl"))
    assert [d.id for d in docs] == ["a", "b"] and docs[0].text.endswith("same document.\n")


def test_test_prints_a_report_with_timing(model: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["test", str(model), "--json", "-q", "--save", str(tmp_path / "p.jsonl")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # the model's own config names the test file
    assert report["documents"] == 3
    assert 0.0 <= report["overall"]["strict"]["f1"] <= 1.0
    assert report["timing"]["documents"] == 3 and report["timing"]["tokens_per_s"] > 0
    assert (tmp_path / "p.jsonl").is_file() and (tmp_path / "p.jsonl.timing.json").is_file()
    markdown = runner.invoke(app, ["test", str(model), "--input", str(FIXTURES / "dev.jsonl"), "-q"])
    assert markdown.exit_code == 0, markdown.output
    assert "strict" in markdown.stdout


def test_train_calibrates_int8_and_calibrate_remakes_it_for_an_older_model(
    run_main: RunMain, model: Path, tmp_path: Path
) -> None:
    older = tmp_path / "older"
    shutil.copytree(model, older)
    written = (older / "int8_calibration.safetensors").read_bytes()
    args = ["predict", str(older), str(FIXTURES / "test.jsonl"), str(tmp_path / "o.jsonl"), "--precision", "int8", "-q"]
    code, out, err = run_main(*args)
    assert code == 0 and "tagged 3 documents" in out, err
    (older / "int8_calibration.safetensors").unlink()  # as a model trained before bioner train calibrated
    code, _, err = run_main(*args)
    assert code == 2 and "no int8 calibration" in err and "bioner calibrate MODEL" in err and err.count("\n") == 1
    code, out, err = run_main("calibrate", str(older))  # its own training file, as bioner train read it
    assert code == 0, err
    assert (older / "int8_calibration.safetensors").read_bytes() == written
    code, _, err = run_main("calibrate", str(older), "--corpus", "ncbi-disease", "--input", "x.jsonl")
    assert code == 2 and "choose one of --corpus and --input" in err


@pytest.mark.slow
def test_resume_continues_after_the_last_finished_epoch(
    run_main: RunMain,
    tiny_backbone: Path,
    tmp_path: Path,
) -> None:
    config = str(_write_config(tmp_path, tiny_backbone))
    out = str(tmp_path / "run")
    code, _, err = run_main("train", config, "--output", out, "-q", "--set", "train.epochs=1")
    assert code == 0, err
    first = json.loads((tmp_path / "run" / "history.json").read_text())["epochs"]
    code, _, err = run_main("train", config, "--output", out, "-q", "--set", "train.epochs=1")
    assert code == 2 and "--resume" in err
    code, stdout, err = run_main("train", config, "--output", out, "-q", "--resume", "--set", "train.epochs=2")
    assert code == 0, err
    epochs = json.loads((tmp_path / "run" / "history.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2] and epochs[0] == first[0]
    assert "of 2" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "train.epoch=3"], "unknown config key 'train.epoch'"),
        (["--set", "train.epochs=many"], "'train.epochs' must be an integer"),
        (["--resume"], "no checkpoint.safetensors to resume from"),
    ],
)
def test_train_user_errors_are_one_line(
    run_main: RunMain,
    args: list[str],
    message: str,
    tmp_path: Path,
) -> None:
    config = str(_write_config(tmp_path, tmp_path))
    code, _, err = run_main("train", config, "--output", str(tmp_path / "o"), *args)
    assert code == 2
    assert err.startswith("bioner: error: ") and message in err and err.count("\n") == 1


def test_predict_and_test_user_errors_are_one_line(
    run_main: RunMain,
    model: Path,
    tmp_path: Path,
) -> None:
    cases = [
        (["predict", str(tmp_path), str(FIXTURES / "test.jsonl"), str(tmp_path / "o.jsonl")], "not a bioner model"),
        (["predict", str(model), str(tmp_path / "missing.jsonl"), str(tmp_path / "o.jsonl")], "no such file"),
        (["predict", str(model), str(FIXTURES / "test.jsonl"), str(tmp_path / "o.out")], "cannot tell the format"),
        (["test", str(model), "--split", "valid"], "unknown split 'valid'"),
        (["test", str(model), "--corpus", "ncbi-disease", "--input", "x.jsonl"], "choose one of"),
    ]
    for args, message in cases:
        code, _, err = run_main(*args)
        assert code == 2, args
        assert err.startswith("bioner: error: ") and message in err and err.count("\n") == 1, err


@pytest.mark.slow
def test_llm_tagger_with_dbr_trains_and_is_scored_from_the_command_line(tiny_llama: Path, tmp_path: Path) -> None:
    config = tmp_path / "llm.toml"
    config.write_text(
        f"""{DATA}
[model]
backend = "llm-tagger"
backbone = "{tiny_llama}"
max_length = 128
window_overlap = 16
lora_r = 8

[train]
epochs = 1
batch_size = 4
learning_rate = 5e-3
schedule = "constant"
warmup_ratio = 0.0

[dbr]
mode = "retrieved"
retriever = "tfidf"
"""
    )
    output = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(config), "--output", str(output), "-q"])
    assert trained.exit_code == 0, trained.output
    assert (output / "adapter").is_dir() and (output / "head.safetensors").is_file()
    assert "retrieved" in (output / "config.toml").read_text()
    tested = runner.invoke(app, ["test", str(output), "--input", str(FIXTURES / "test.jsonl"), "--json", "-q"])
    assert tested.exit_code == 0, tested.output
    report = json.loads(tested.stdout)
    assert set(report["overall"]) == {"strict", "exact", "partial", "type"}
    assert report["documents"] == len(list(read_documents(FIXTURES / "test.jsonl")))


@pytest.mark.slow
def test_the_encoder_mixture_config_trains_on_two_corpora_with_a_tag_set_each(
    tiny_backbone: Path, tmp_path: Path
) -> None:
    output = tmp_path / "mixture"
    overrides = [
        f"model.backbone={tiny_backbone}",
        'data.mixture=["ncbi-disease", "bc5cdr"]',
        "data.weights=[1, 0.5]",
        "data.limit=3",
        "train.max_steps=2",
    ]
    args = ["train", str(CONFIGS / "encoder" / "mixture.toml"), "--output", str(output), "-q"]
    trained = runner.invoke(app, [*args, *(x for o in overrides for x in ("--set", o))])
    assert trained.exit_code == 0, trained.output
    tags = json.loads((output / "tags.json").read_text())
    assert tags["labels_by_corpus"] == {"ncbi-disease": ["Disease"], "bc5cdr": ["Chemical", "Disease"]}
    tested = runner.invoke(app, ["test", str(output), "--corpus", "bc5cdr", "--limit", "2", "--json", "-q"])
    assert tested.exit_code == 0, tested.output
    assert json.loads(tested.stdout)["documents"] == 2


def test_annotate_prints_the_mentions_and_writes_jsonl(model: Path, tmp_path: Path) -> None:
    text = "Mutations in BRCA1 cause breast cancer and cystic fibrosis."
    out = tmp_path / "tagged.jsonl"
    result = runner.invoke(app, ["annotate", str(model), text, "--out", str(out)])
    assert result.exit_code == 0, result.output
    [doc] = list(read_documents(out))
    assert doc.text == text
    assert f"{len(doc.entities)} mentions" in result.stdout
    for entity in doc.entities:  # every mention is shown with its offsets
        assert f"{entity.start} " in result.stdout and entity.label in result.stdout


def test_annotate_wants_exactly_one_text(
    run_main: RunMain,
    model: Path,
) -> None:
    code, _, err = run_main("annotate", str(model))
    assert code == 2 and "give the text either as an argument or with --file" in err and "Traceback" not in err
