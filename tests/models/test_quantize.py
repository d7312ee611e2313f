"""int8 prediction: the same spans as fp32 on a tiny trained model, an exact and deterministic smoothing that
keeps int8 close to fp32 where one channel is an outlier, one-line errors elsewhere, the accuracy gate."""

from __future__ import annotations

import copy
import dataclasses
import warnings
from pathlib import Path

import pytest
import torch

from bioner.errors import BionerError
from bioner.formats import read_documents
from bioner.models.encoder import CALIBRATION_FILE, EncoderTagger
from bioner.models.quantize import (
    accuracy_gate,
    check_int8_device,
    input_maxima,
    int8_model,
    quantizable_linears,
    smoothed_copy,
    with_precision,
)
from bioner.models.segments import collate, pad_id, score_segments
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
    int8_scores = score_segments(
        tagger.module,
        segments,
        precision="int8",
        calibration=tagger.int8_calibration,
        **common,  # type: ignore[arg-type]
    )
    for a, b in zip(float_scores, int8_scores, strict=True):
        assert abs(torch.from_numpy(a).exp() - torch.from_numpy(b).exp()).max() < 0.1


def test_the_int8_copy_quantizes_the_layers_and_leaves_the_float_model_alone(tagger: EncoderTagger) -> None:
    assert tagger.module is not None and tagger.int8_calibration is not None  # fit calibrates
    names = quantizable_linears(tagger.module)
    assert len(names) == 2 * 6  # 2 layers of q, k, v, attention output, intermediate, output
    before = {k: v.clone() for k, v in tagger.module.state_dict().items()}
    quantized = int8_model(tagger.module, tagger.int8_calibration)
    assert int8_model(tagger.module, tagger.int8_calibration) is quantized  # made once
    layers = dict(quantized.named_modules())
    dynamic = torch.ao.nn.quantized.dynamic.Linear
    for name in names:  # the attention output's smoothing is folded into the values; the others divide their input
        inner = name if name.endswith("attention.output.dense") else f"{name}.linear"
        assert isinstance(layers[inner], dynamic), name
    assert isinstance(layers["head.linear"], torch.nn.Linear)  # the head stays float
    assert all(torch.equal(before[k], v) for k, v in tagger.module.state_dict().items())
    assert int8_model(tagger.module, dict(tagger.int8_calibration)) is not quantized  # another calibration
    with torch.no_grad():
        next(tagger.module.parameters()).add_(0.0)  # any in-place update makes a fresh copy
    assert int8_model(tagger.module, tagger.int8_calibration) is not quantized


def _batch(tagger: EncoderTagger, docs: list[Document]) -> dict[str, torch.Tensor]:
    _, segments = tagger.featurize(docs, gold=False, report=None)
    return collate(segments, pad_id(tagger.tokenizer))


def _forward(module: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    with torch.inference_mode():
        out: torch.Tensor = module(batch["input_ids"], batch["attention_mask"], batch["word_index"])
    return out


def test_the_calibration_is_the_largest_real_input_and_deterministic(tagger: EncoderTagger) -> None:
    assert tagger.module is not None
    batch = _batch(tagger, TRAIN[:4])
    maxima = input_maxima(tagger.module, [batch])
    with torch.inference_mode():  # layer 0's query reads the embeddings' output
        embedded = tagger.module.backbone.embeddings(input_ids=batch["input_ids"])
    real = embedded[batch["attention_mask"].bool()]
    assert torch.allclose(maxima["backbone.encoder.layer.0.attention.self.query"], real.abs().amax(dim=0))
    assert not torch.allclose(maxima["backbone.encoder.layer.0.attention.self.query"], embedded.abs().amax((0, 1)))
    again = copy.copy(tagger)
    again.calibrate_int8(TRAIN)
    tagger.calibrate_int8(TRAIN)
    assert tagger.int8_calibration is not None and again.int8_calibration is not None
    assert all(torch.equal(tagger.int8_calibration[k], v) for k, v in again.int8_calibration.items())


def test_smoothing_changes_nothing_in_float(tagger: EncoderTagger) -> None:
    assert tagger.module is not None and tagger.int8_calibration is not None
    batch = _batch(tagger, TEST)
    smoothed, targets = smoothed_copy(tagger.module, tagger.int8_calibration)
    assert len(targets) == 12
    assert torch.allclose(_forward(smoothed, batch), _forward(tagger.module, batch), atol=1e-4)
    inverse = [m.inverse_scale for m in smoothed.modules() if hasattr(m, "inverse_scale")]
    assert len(inverse) == 10  # q, k, v, intermediate, output of 2 layers; the attention output's is folded
    assert all(bool((i <= 1).all()) for i in inverse)  # loud channels divided, no quiet channel amplified
    assert any(bool((i < 1).any()) for i in inverse)
    with pytest.raises(BionerError, match="calibration does not match the model: no maxima for backbone"):
        smoothed_copy(tagger.module, {})


def test_smoothing_keeps_int8_close_to_fp32_when_one_channel_is_an_outlier(tagger: EncoderTagger) -> None:
    """An embedding channel 40 times the others: one activation scale per tensor rounds the rest away."""
    assert tagger.module is not None
    outlier = copy.deepcopy(tagger.module)
    with torch.no_grad():
        outlier.backbone.embeddings.LayerNorm.weight[3] *= 40
        outlier.backbone.embeddings.LayerNorm.bias[3] += 20
    batch = _batch(tagger, TEST)
    reference = _forward(outlier, batch)
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = quantizable_linears(outlier)
        plain = quantize_dynamic(copy.deepcopy(outlier), dict.fromkeys(names, per_channel_dynamic_qconfig))
    plain_error = (_forward(plain, batch) - reference).abs().mean()
    calibration = input_maxima(outlier, [_batch(tagger, TRAIN)])
    smooth_error = (_forward(int8_model(outlier, calibration), batch) - reference).abs().mean()
    assert smooth_error < plain_error / 2, (smooth_error, plain_error)


def test_a_model_without_calibration_is_a_one_line_error_and_saves_none(tagger: EncoderTagger, tmp_path: Path) -> None:
    assert tagger.module is not None
    with pytest.raises(BionerError, match=r"no int8 calibration \(bioner train writes it; .* bioner calibrate MODEL"):
        int8_model(tagger.module, None)
    tagger.save(tmp_path)
    assert (tmp_path / CALIBRATION_FILE).is_file()
    loaded = EncoderTagger.from_pretrained(tmp_path)
    assert loaded.int8_calibration is not None and tagger.int8_calibration is not None
    assert all(torch.equal(tagger.int8_calibration[k], v) for k, v in loaded.int8_calibration.items())
    loaded.int8_calibration = None
    loaded.save(tmp_path)  # a calibration of other weights is not left behind
    assert not (tmp_path / CALIBRATION_FILE).exists()
    (tmp_path / CALIBRATION_FILE).write_bytes(b"garbage")
    with pytest.raises(BionerError, match=r"int8_calibration\.safetensors: not this model.s int8 calibration"):
        EncoderTagger.from_pretrained(tmp_path)


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
