"""Encoder models as standard transformers folders, for tools that know nothing of bioner.

``bioner export MODEL DIR --to transformers`` writes an ``AutoModelForTokenClassification``
folder (safetensors weights, the backbone's config with ``id2label``, the tokenizer): the same
backbone weights and the same linear head, so ``transformers.pipeline("token-classification")``
scores every sub-token exactly as bioner does. What the folder cannot carry is reported: the
pipeline decodes by argmax where bioner decodes by constrained Viterbi, and it knows ``B-``/``I-``
prefixes only.
"""

from __future__ import annotations

from pathlib import Path

from bioner.errors import BionerError, Report
from bioner.models.base import Predictor
from bioner.models.encoder import EncoderTagger

TARGETS = ("transformers",)


def export_model(
    model: Predictor, folder: str | Path, target: str = "transformers", report: Report | None = None
) -> Path:
    """Write ``model`` to ``folder`` in the ``target`` layout; only encoder models with one tag set export."""
    if target not in TARGETS:
        raise BionerError(f"--to: unknown export target {target!r}; targets: {', '.join(TARGETS)}")
    if not isinstance(model, EncoderTagger):
        raise BionerError(f"only encoder models export to transformers, not the {model.settings.backend} backend")
    if len(model.tag_sets) > 1:
        raise BionerError("a mixture model with one tag set per corpus has no single token-classification head")
    from transformers import AutoModelForTokenClassification

    module = model.module
    assert module is not None
    config = module.backbone.config
    config.num_labels = len(model.tags)
    config.id2label = dict(enumerate(model.tags))
    config.label2id = {tag: i for i, tag in enumerate(model.tags)}
    exported = AutoModelForTokenClassification.from_config(config)
    body = getattr(exported, exported.base_model_prefix)
    result = body.load_state_dict(module.backbone.state_dict(), strict=False)
    unexpected = [name for name in result.unexpected_keys if not name.startswith("pooler.")]  # unused by taggers
    if result.missing_keys or unexpected:
        names = ", ".join([*result.missing_keys, *unexpected][:3])
        raise BionerError(f"the backbone's weights do not fit {type(exported).__name__}: {names}")
    classifier = exported.classifier
    classifier.weight.data.copy_(module.head.linear.weight.data)
    classifier.bias.data.copy_(module.head.linear.bias.data)
    target_folder = Path(folder)
    exported.save_pretrained(target_folder, safe_serialization=True)
    model.tokenizer.save_pretrained(target_folder)
    if report is not None:
        report.warn("exported without constrained Viterbi decoding (a pipeline decodes by argmax)")
        if model.settings.scheme != "IOB2":
            report.lose(f"{model.settings.scheme} decoding (a pipeline reads B- and I- prefixes only)")
    return target_folder
