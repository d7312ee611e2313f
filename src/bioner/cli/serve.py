"""``bioner serve MODEL``: the HTTP API and web page over a trained model (see docs/serve.md)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bioner.cli.app import app
from bioner.extras import need


@app.command()
def serve(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A trained model folder (bioner train --output).")],
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 exposes it to the network).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    max_body_bytes: Annotated[int, typer.Option(min=1, help="Largest request body (413 above it).")] = 10_000_000,
    max_texts: Annotated[int, typer.Option(min=1, help="Most texts or documents a request (422 above it).")] = 1_000,
    max_chars: Annotated[int, typer.Option(min=1, help="Most characters in one text (422 above it).")] = 100_000,
    max_concurrent: Annotated[int, typer.Option(min=1, help="Requests held at once (429 above it).")] = 64,
    max_batch: Annotated[int, typer.Option(min=1, help="Most documents gathered into one model call.")] = 32,
    max_wait_ms: Annotated[float, typer.Option(min=0, help="How long a request waits to share a batch.")] = 10.0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
) -> None:
    """Serve MODEL over HTTP: POST /annotate, GET /health, GET /model, the web page at /, OpenAPI at /docs."""
    need("fastapi", "serve", "bioner serve")
    import bioner
    from bioner.serve import Limits, create_app, serve_forever

    limits = Limits(max_body_bytes, max_texts, max_chars, max_concurrent, max_batch, max_wait_ms)
    tagger = bioner.load(model, device=device)
    web = create_app(tagger, limits, model_info=model_info(model))
    typer.echo(f"serving {model} on http://{host}:{port}/ (API docs at /docs)")
    asyncio.run(serve_forever(web, host, port))


def model_info(folder: Path) -> dict[str, Any]:
    """What ``GET /model`` says: the backend and the scores of the model card, never the folder's path."""
    from bioner.models.registry import read_model_config

    info: dict[str, Any] = {"backend": read_model_config(folder).get("model", {}).get("backend")}
    scores = folder / "scores.json"
    if scores.is_file():
        info["scores"] = json.loads(scores.read_text(encoding="utf-8"))
    return info
