"""Backends by name, saved folders old and new, and model files that are broken: one-line errors, never tracebacks."""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w

from bioner.errors import BionerError
from bioner.extras import need
from bioner.formats import read_documents
from bioner.models.encoder import EncoderSettings
from bioner.models.registry import backend, backend_names, load_model
from bioner.training import recipe
from bioner.training.config import load_config
from bioner.training.recipe import fit

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"
TRAIN = list(read_documents(FIXTURES / "train.jsonl"))
TEST = list(read_documents(FIXTURES / "test.jsonl"))


def test_backends_are_found_by_name_and_unknown_ones_are_named() -> None:
    assert backend("encoder").settings is EncoderSettings and EncoderSettings.backend == "encoder"
    assert {"encoder", "llm-tagger"} <= set(backend_names())
    with pytest.raises(BionerError, match=r"unknown backend 'crf'; known backends: .*encoder"):
        backend("crf")


def test_a_saved_config_holds_only_its_backends_settings(tiny_model: Path) -> None:
    saved = tomllib.loads((tiny_model / "config.toml").read_text())
    assert saved["model"]["backend"] == "encoder" and "lora_r" not in saved["model"] and "scheme" in saved["model"]
    card = (tiny_model / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: bioner") and "backend: `encoder`" in card


def test_a_folder_saved_before_per_backend_settings_still_loads(tiny_model: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(tiny_model, old)
    config = tomllib.loads((old / "config.toml").read_text())
    config["model"].update(bidirectional=True, instruction="corpus", lora_r=16, quantize="auto")  # the old flat table
    (old / "config.toml").write_text(tomli_w.dumps(config))
    assert load_model(old).predict(TEST) == load_model(tiny_model).predict(TEST)
    config["model"]["unheard_of"] = 1
    (old / "config.toml").write_text(tomli_w.dumps(config))
    with pytest.raises(BionerError, match=r"unknown config key 'model.unheard_of'"):
        load_model(old)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.safetensors", b"\x00garbage", "model.safetensors: not this model's weights"),
        ("model.safetensors", b"", "model.safetensors: not this model's weights"),
        ("tags.json", b'{"tags": [', "tags.json: not readable JSON"),
        ("tags.json", b"[1, 2]", "tags.json: expected a JSON object with tags"),
        ("config.toml", b"[model\n", "config.toml: invalid TOML"),
    ],
)
def test_broken_model_files_are_one_line_errors_naming_the_file(
    tiny_model: Path, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / name).write_bytes(content)
    with pytest.raises(BionerError, match=message):
        load_model(broken)


def test_weights_of_another_model_are_refused(tiny_model: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    save_file({"something.else": torch.zeros(2)}, str(other / "model.safetensors"))
    with pytest.raises(BionerError, match="not this model's weights"):
        load_model(other)
    (other / "tags.json").write_text(json.dumps({"scheme": "IOB2", "tags": ["O", "B-X", "I-X"]}))
    with pytest.raises(BionerError, match="does not match the labels"):
        load_model(other)


def test_resume_with_a_changed_model_setting_is_refused_before_any_weight_loads(
    tiny_backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = [f"model.backbone={tiny_backbone}", "train.epochs=2", "train.max_steps=1", "train.batch_size=4"]
    fit(TRAIN, [], load_config(None, overrides), tmp_path)

    def no_model(*args: object) -> None:
        raise AssertionError("a model was built")

    monkeypatch.setattr(recipe, "new_model", no_model)
    changed = load_config(None, [*overrides, "model.dropout=0.3"])
    with pytest.raises(BionerError, match=r"cannot resume: .*model\.dropout"):
        fit(TRAIN, [], changed, tmp_path, resume=True)


def test_a_missing_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "peft", None)
    with pytest.raises(BionerError, match=r"the llm-tagger needs peft: pip install 'bioner\[llm\]'"):
        need("peft", "llm", "the llm-tagger")
