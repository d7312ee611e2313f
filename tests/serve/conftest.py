"""A tiny trained model served by a real uvicorn server on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

import bioner
from bioner.api import Tagger
from bioner.formats import read_documents
from bioner.serve import Limits, create_app
from bioner.training.config import load_config
from bioner.training.recipe import fit

FIXTURES = Path(__file__).parents[1] / "fixtures" / "encoder"


@pytest.fixture(scope="session")
def served_model(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("served-model")
    config = load_config(None, [f"model.backbone={tiny_backbone}", "train.max_steps=2", "train.batch_size=4"])
    fit(list(read_documents(FIXTURES / "train.jsonl")), [], config, folder)
    return folder


@pytest.fixture(scope="session")
def tagger(served_model: Path) -> Tagger:
    return bioner.load(served_model)


@contextmanager
def running(tagger: Tagger, limits: Limits | None = None) -> Iterator[str]:
    """The app on a free loopback port in a thread; stopped (gracefully) on exit."""
    app = create_app(tagger, limits, model_info={"backend": "encoder"})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=10))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@pytest.fixture(scope="module")
def url(tagger: Tagger) -> Iterator[str]:
    with running(tagger, Limits(max_body_bytes=20_000, max_texts=5, max_chars=2_000)) as address:
        yield address
