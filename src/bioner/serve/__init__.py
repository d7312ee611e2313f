"""``bioner serve``: the HTTP API (FastAPI, micro-batched, limited) and its web page."""

from bioner.serve.app import Limits, create_app, serve_forever

__all__ = ["Limits", "create_app", "serve_forever"]
