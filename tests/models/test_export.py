"""Export to transformers: the same weights score the same, and a pipeline finds the same spans."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from bioner.cli import load_verbs
from bioner.cli.app import app
from bioner.errors import BionerError
from bioner.models.encoder import EncoderTagger
from bioner.models.registry import load_model
from bioner.types import Document


def test_exported_weights_give_the_same_scores(tiny_model: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForTokenClassification

    tagger = load_model(tiny_model)
    assert isinstance(tagger, EncoderTagger) and tagger.module is not None
    load_verbs()
    result = CliRunner().invoke(app, ["export", str(tiny_model), str(tmp_path / "hf"), "--to", "transformers"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hf" / "model.safetensors").is_file() and not list((tmp_path / "hf").glob("*.bin"))
    exported = AutoModelForTokenClassification.from_pretrained(tmp_path / "hf", local_files_only=True).eval()
    assert exported.config.id2label == dict(enumerate(tagger.tags))
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        theirs = exported(input_ids=ids, attention_mask=mask).logits
        ours = tagger.module(ids, mask, torch.arange(ids.size(1)).unsqueeze(0))
    torch.testing.assert_close(theirs, ours)


def test_a_pipeline_on_the_exported_model_finds_bioners_spans(tiny_model: Path, tmp_path: Path) -> None:
    from transformers import pipeline

    tagger = load_model(tiny_model)
    assert isinstance(tagger, EncoderTagger) and tagger.module is not None
    with torch.no_grad():  # every word its own mention: the spans show where each side puts word boundaries
        tagger.module.head.linear.weight.zero_()
        tagger.module.head.linear.bias.fill_(-10.0)
        tagger.module.head.linear.bias[tagger.tags.index("B-Disease")] = 10.0
    from bioner.models.export import export_model

    export_model(tagger, tmp_path / "hf")
    text = "Mutations in BRCA1 (17q21) cause early-onset breast cancer, e.g. in 5% of cases."
    ours = [(e.start, e.end, e.label) for e in tagger.predict([Document("d", text)])[0].entities]
    tag = pipeline("token-classification", model=str(tmp_path / "hf"), aggregation_strategy="first", device="cpu")
    theirs = [(int(e["start"]), int(e["end"]), str(e["entity_group"])) for e in tag(text)]
    assert ours and theirs == ours


def test_only_single_tag_set_encoders_export(tmp_path: Path) -> None:
    from bioner.models.export import export_model

    with pytest.raises(BionerError, match="unknown export target 'onnx'"):
        export_model(EncoderTagger(), tmp_path, "onnx")
