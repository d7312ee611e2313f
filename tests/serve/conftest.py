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
from bioner.serve import Limits, create_app


@pytest.fixture(scope="session")
def tagger(tiny_model: Path) -> Tagger:
    return bioner.load(tiny_model)


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
