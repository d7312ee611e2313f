"""The prompted backend end to end with a scripted client: chunks, cache resume, report, config errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bioner.errors import BionerError, Report
from bioner.models.prompted import CACHED, FAILED, REQUESTS, PromptedSettings, PromptedTagger
from bioner.models.registry import load_model
from bioner.prompting.cache import Completion
from bioner.types import Document


class Scripted:
    """Answers BRCA1 as a Gene for every prompt; fails when told to."""

    model = "scripted"

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def complete(
        self, messages: Sequence[dict[str, str]], schema: dict[str, Any] | None, grammar: object = None
    ) -> Completion:
        self.calls += 1
        if self.fail:
            raise ConnectionError("down")
        return Completion('```json\n{"entities": [{"text": "BRCA1", "label": "Gene"}]}\n``` done', 10, 5)


def tagger(tmp_path: Path, client: Scripted) -> PromptedTagger:
    model = PromptedTagger(PromptedSettings(client="openai", cache=str(tmp_path), chunk_chars=40))
    model.client = client
    return model


def test_spans_from_every_chunk_and_resume_from_cache(tmp_path: Path) -> None:
    doc = Document("d1", "BRCA1 is mutated here. In this sentence too BRCA1 appears.")
    client = Scripted()
    report = Report()
    [out] = tagger(tmp_path, client).predict([doc], labels=["Gene"], report=report)
    assert [(e.start, e.end) for e in out.entities] == [(0, 5), (44, 49)]
    assert all(doc.text[e.start : e.end] == e.text for e in out.entities)
    assert report.warnings[REQUESTS] == client.calls == 2
    again = Report()
    fresh = Scripted()
    tagger(tmp_path, fresh).predict([doc], labels=["Gene"], report=again)
    assert fresh.calls == 0 and again.warnings[CACHED] == 2


def test_failed_requests_are_counted_not_raised(tmp_path: Path) -> None:
    report = Report()
    [out] = tagger(tmp_path, Scripted(fail=True)).predict([Document("d", "BRCA1.")], labels=["Gene"], report=report)
    assert out.entities == () and report.losses[FAILED] == 1


def test_config_file_loads_without_training(tmp_path: Path) -> None:
    config = tmp_path / "prompted.toml"
    config.write_text('[model]\nbackend = "prompted"\nclient = "openai"\nmodel = "x"\nlabels = ["Gene"]\n')
    model = load_model(config)
    assert isinstance(model, PromptedTagger) and model.labels == ["Gene"]
    config.write_text('[model]\nbackend = "prompted"\nshots = 2\n')
    with pytest.raises(BionerError, match="shots_corpus"):
        load_model(config)


def test_bioner_predict_takes_a_prompted_config(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bioner.cli import load_verbs
    from bioner.cli.app import app

    load_verbs()

    config = tmp_path / "prompted.toml"
    config.write_text(
        '[model]\nbackend = "prompted"\nclient = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "x"\n'
        f'retries = 0\ntimeout = 2\ncache = "{tmp_path / "cache"}"\nlabels = ["Gene"]\n'
    )
    (tmp_path / "in.txt").write_text("BRCA1 is a gene.\n")
    result = CliRunner().invoke(app, ["predict", str(config), str(tmp_path / "in.txt"), str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    assert "LLM requests failed" in result.output and (tmp_path / "out.jsonl").is_file()
