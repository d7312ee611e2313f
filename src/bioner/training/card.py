"""The model card of a trained model folder: ``README.md`` in the Hugging Face hub's format.

A card says what the model is (backend, backbone, labels), what it was trained on, with
which settings, and how well it did (dev scores from the run's history, test scores once
``bioner test`` has scored the model's own test split), so a folder shared on the hub or
by hand explains itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from bioner.formats.common import open_write
from bioner.models.base import CARD_FILE
from bioner.training.config import Config, model_config

SCORES_FILE = "scores.json"
"""Test scores ``bioner test`` recorded for the card: ``{"corpus/split": {"precision", "recall", "f1"}}``."""


def write_card(folder: str | Path, config: Config, summary: Mapping[str, Any]) -> Path:
    """Write (or rewrite) ``README.md`` in ``folder`` from the config, the run summary and recorded test scores."""
    target = Path(folder)
    model = config.model
    data = config.data
    trained_on = ", ".join(data.mixture) or data.corpus or Path(data.train or "documents").name
    backbone = getattr(model, "backbone", "")
    scores_path = target / SCORES_FILE
    tests: dict[str, Any] = json.loads(scores_path.read_text()) if scores_path.is_file() else {}
    front = ["---", "library_name: bioner", "pipeline_tag: token-classification", "language:"]
    front.append(f"- {'es' if 'pharmaconer' in trained_on else 'en'}")
    front += ["tags:", "- biomedical", "- named-entity-recognition", f"- bioner-{model.backend}"]
    if backbone and not Path(backbone).is_absolute():
        front.append(f"base_model: {backbone}")
    front.append("---")
    lines = [
        *front,
        "",
        f"# bioner {model.backend} model: {', '.join(model.labels)}",
        "",
        f"- backend: `{model.backend}`" + (f", backbone `{backbone}`" if backbone else ""),
        f"- trained on: {trained_on}",
        f"- labels: {', '.join(model.labels)}",
        f"- stopped by: {summary.get('stopped', '')}, best epoch {summary.get('best_epoch', '')}",
        "",
        "## Scores (strict, character spans)",
        "",
        "| data | precision | recall | F1 |",
        "|---|--:|--:|--:|",
    ]
    best = summary.get("best_dev")
    if best:
        lines.append(f"| dev ({trained_on}) | {best['precision']:.4f} | {best['recall']:.4f} | {best['f1']:.4f} |")
    for name, values in sorted(tests.items()):
        lines.append(f"| {name} | {values['precision']:.4f} | {values['recall']:.4f} | {values['f1']:.4f} |")
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "import bioner",
        f'tagger = bioner.load("{target.name}")',
        'tagger("Mutations in BRCA1 cause breast cancer.")',
        "```",
        "",
        "## Config",
        "",
        "```toml",
        tomli_w.dumps(config.to_dict()).strip(),
        "```",
        "",
    ]
    with open_write(target / CARD_FILE) as out:
        out.write("\n".join(lines))
    return target / CARD_FILE


def record_test_scores(folder: str | Path, name: str, strict: Mapping[str, float]) -> None:
    """Keep ``bioner test``'s strict scores on ``name`` (``corpus/split``) for the card, then rewrite the card."""
    target = Path(folder)
    path = target / SCORES_FILE
    scores: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    scores[name] = {key: float(strict[key]) for key in ("precision", "recall", "f1")}
    with open_write(path) as out:
        out.write(json.dumps(scores, indent=2) + "\n")
    history = target / "history.json"
    summary = json.loads(history.read_text()) if history.is_file() else {}
    write_card(target, model_config(target), summary)
