"""A real OpenAI-compatible server on a loopback port (FastAPI + uvicorn, real transformers generation on a
tiny randomly initialised Gemma 3), asked through the ``openai`` client by the prompted backend."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bioner.errors import Report
from bioner.models.prompted import PROMPT_TOKENS, REQUESTS, PromptedSettings, PromptedTagger
from bioner.prompting.clients import TransformersClient
from bioner.types import Document


@pytest.fixture(scope="module")
def server(tiny_gemma: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    import uvicorn
    from fastapi import FastAPI

    generator = TransformersClient(str(tiny_gemma), max_new_tokens=8)
    seen: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    def chat(body: dict[str, Any]) -> dict[str, Any]:
        seen.append(body)
        answer = generator.complete(body["messages"], None)
        return {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": answer.text}}
            ],
            "usage": {
                "prompt_tokens": answer.prompt_tokens,
                "completion_tokens": answer.completion_tokens,
                "total_tokens": answer.prompt_tokens + answer.completion_tokens,
            },
        }

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1", seen
    uv.should_exit = True
    thread.join(5)


@pytest.mark.slow
def test_prompted_backend_against_a_loopback_server(server: tuple[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    url, seen = server
    settings = PromptedSettings(client="openai", base_url=url, model="tiny", cache=str(tmp_path), retries=0)
    doc = Document("d", "BRCA1 mutations cause breast cancer.")
    report = Report()
    [out] = PromptedTagger(settings).predict([doc], labels=["Gene", "Disease"], report=report)
    assert report.warnings[REQUESTS] == 1 and report.warnings[PROMPT_TOKENS] > 0
    assert seen[0]["response_format"]["type"] == "json_schema"
    assert all(doc.text[e.start : e.end] == e.text for e in out.entities)


def predict_with_config(tmp_path: Path, model_table: str) -> list[dict[str, Any]]:
    """``bioner predict CONFIG IN OUT`` on one line of text; the JSONL records it wrote."""
    import json

    from typer.testing import CliRunner

    from bioner.cli import load_verbs
    from bioner.cli.app import app

    load_verbs()
    config = tmp_path / "prompted.toml"
    config.write_text(
        f'[model]\nbackend = "prompted"\nlabels = ["Gene", "Disease"]\ncache = "{tmp_path / "cache"}"\n{model_table}'
    )
    (tmp_path / "in.txt").write_text("BRCA1 mutations cause breast cancer.\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["predict", str(config), str(tmp_path / "in.txt"), str(out)])
    assert result.exit_code == 0, result.output
    assert "LLM requests sent" in result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def check_spans(records: list[dict[str, Any]]) -> None:
    [record] = records
    for e in record["entities"]:
        assert record["text"][e["start"] : e["end"]] == e["text"]


def test_bioner_predict_with_a_prompted_config_against_the_loopback_server(
    server: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, _ = server
    check_spans(predict_with_config(tmp_path, f'client = "openai"\nbase_url = "{url}"\nmodel = "tiny"\nretries = 0\n'))


def test_bioner_predict_with_a_prompted_config_on_local_generation(tiny_gemma: Path, tmp_path: Path) -> None:
    check_spans(
        predict_with_config(tmp_path, f'client = "transformers"\nmodel = "{tiny_gemma}"\nmax_new_tokens = 24\n')
    )
