"""int8 prediction: the same spans as fp32 on a tiny trained model, one-line errors elsewhere, the accuracy gate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from bioner.errors import BionerError
from bioner.formats import read_documents
from bioner.models.encoder import EncoderTagger
from bioner.models.quantize import accuracy_gate, check_int8_device, int8_model, quantizable_linears, with_precision
from bioner.models.segments import pad_id, score_segments
from bioner.training.config import load_config
from bioner.training.recipe import fit
from bioner.types import Document

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"
TRAIN = list(read_documents(FIXTURES / "train.jsonl"))
TEST = list(read_documents(FIXTURES / "test.jsonl"))


@pytest.fixture(scope="module")
def tagger(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> EncoderTagger:
    overrides = [f"model.backbone={tiny_backbone}", "train.batch_size=4", "train.learning_rate=3e-3"]
    config = load_config(None, [*overrides, "train.epochs=3", "train.patience=0", "train.device=cpu"])
    trained, _ = fit(TRAIN, [], config, tmp_path_factory.mktemp("quantize-run"))
    assert isinstance(trained, EncoderTagger)
    return trained


def _spans(docs: list[Document]) -> set[tuple[str, int, int, str]]:
    return {(d.id, e.start, e.end, e.label) for d in docs for e in d.entities}


def test_int8_gives_the_spans_of_fp32_within_tolerance(tagger: EncoderTagger) -> None:
    fp32 = tagger.predict(TEST)
    assert _spans(fp32), "the tiny model must find something for the comparison to mean anything"
    int8 = with_precision(tagger, "int8").predict(TEST)
    tagger.runtime = dataclasses.replace(tagger.runtime, precision="fp32")
    agreement = len(_spans(fp32) & _spans(int8)) / len(_spans(fp32) | _spans(int8))
    assert agreement >= 0.9
    # and the per-word scores differ by quantization noise only
    _, segments = tagger.featurize(TEST, gold=False, report=None)
    assert tagger.module is not None
    common = {"n_tags": len(tagger.tags), "pad": pad_id(tagger.tokenizer), "batch_size": 8, "device_name": "cpu"}
    float_scores = score_segments(tagger.module, segments, precision="fp32", **common)  # type: ignore[arg-type]
    int8_scores = score_segments(tagger.module, segments, precision="int8", **common)  # type: ignore[arg-type]
    for a, b in zip(float_scores, int8_scores, strict=True):
        assert abs(torch.from_numpy(a).exp() - torch.from_numpy(b).exp()).max() < 0.1


def test_the_int8_copy_quantizes_the_layers_and_leaves_the_float_model_alone(tagger: EncoderTagger) -> None:
    assert tagger.module is not None
    names = quantizable_linears(tagger.module)
    assert len(names) == 2 * 6  # 2 layers of q, k, v, attention output, intermediate, output
    before = {k: v.clone() for k, v in tagger.module.state_dict().items()}
    quantized = int8_model(tagger.module)
    assert int8_model(tagger.module) is quantized  # made once
    layers = dict(quantized.named_modules())
    assert all(isinstance(layers[n], torch.ao.nn.quantized.dynamic.Linear) for n in names)
    assert isinstance(layers["head.linear"], torch.nn.Linear)  # the head stays float
    assert all(torch.equal(before[k], v) for k, v in tagger.module.state_dict().items())
    with torch.no_grad():
        next(tagger.module.parameters()).add_(0.0)  # any in-place update makes a fresh copy
    assert int8_model(tagger.module) is not quantized


def test_int8_on_a_gpu_and_unknown_precisions_are_one_line_errors(tagger: EncoderTagger) -> None:
    with pytest.raises(BionerError, match="CPU only"):
        score_segments(
            tagger.module,  # type: ignore[arg-type]
            [],
            n_tags=len(tagger.tags),
            pad=0,
            batch_size=8,
            device_name="meta",
            precision="int8",
        )
    with pytest.raises(BionerError, match=r"^precision int8 runs on the CPU only \(asked for on cuda\); use bf16"):
        check_int8_device(torch.device("cuda"))
    with pytest.raises(BionerError, match="choose one of auto, bf16, fp32, int8"):
        with_precision(tagger, "int4")
    with pytest.raises(BionerError, match="no precision to set"):
        with_precision(object(), "int8")


def test_the_gate_passes_within_the_tolerance_and_fails_beyond_it() -> None:
    assert accuracy_gate(0.834, 0.8315)["passed"] is True
    assert accuracy_gate(0.834, 0.840)["passed"] is True  # better is never a failure
    assert accuracy_gate(0.834, 0.830) == {"bf16_f1": 0.834, "int8_f1": 0.830, "passed": False}
    assert accuracy_gate(0.834, 0.830, points=0.5)["passed"] is True
