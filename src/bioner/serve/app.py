"""The HTTP API over a loaded tagger: FastAPI, micro-batched, with limits on every request.

Requests carry text, never instructions: no file path, model name or code is taken from them.
Every error is a JSON object ``{"error": ..., "field": ...}`` with a 4xx status, never a 500 for
bad input: 413 for an oversized body, 422 for a field over its limit or of the wrong shape,
429 when the server already holds ``max_concurrent`` requests.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bioner.api import Tagger
from bioner.errors import BionerError, Report
from bioner.formats import FORMATS, write_documents
from bioner.formats.jsonl import from_record, to_record
from bioner.formats.plain import TEXT, read_input
from bioner.serve.batching import MicroBatcher
from bioner.types import Document

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
OUTPUTS = {"json": "application/json", "bioc": "application/xml", "pubtator": "text/plain"}


@dataclass(frozen=True)
class Limits:
    """What one request may ask; every field is a ``bioner serve`` option."""

    max_body_bytes: int = 10_000_000
    max_texts: int = 1_000
    max_chars: int = 100_000
    max_concurrent: int = 64
    max_batch: int = 32
    max_wait_ms: float = 10.0


class AnnotateRequest(BaseModel):
    """Exactly one of ``text``, ``texts`` or ``documents`` (JSONL records: ``id``, ``text``, ...)."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = None
    texts: list[str] | None = None
    documents: list[dict[str, Any]] | None = None
    labels: list[str] | None = Field(default=None, description="labels to tag (span and generative models)")
    output: Literal["json", "bioc", "pubtator"] = "json"


class ApiError(Exception):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def error_response(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes gets 413 before it is read into memory."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
            return
        seen = 0
        exceeded = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # the app sees the body end here; its answer is replaced by the 413
                exceeded = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def replacing_send(message: Message) -> None:
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:
                answered = True
                await _too_large(self.limit)(scope, receive, send)

        await self.app(scope, counting_receive, replacing_send)


def _too_large(limit: int) -> JSONResponse:
    return error_response(413, "body", f"request body over the limit of {limit} bytes")


def create_app(tagger: Tagger, limits: Limits | None = None, *, model_info: dict[str, Any] | None = None) -> FastAPI:
    """The API and the web page for ``tagger``; ``model_info`` is what ``GET /model`` answers."""
    limits = limits or Limits()
    batcher = MicroBatcher(_predictor(tagger), max_batch=limits.max_batch, max_wait_ms=limits.max_wait_ms)
    in_flight = {"count": 0}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="bioner", version=_version(), lifespan=lifespan)
    app.state.batcher = batcher
    app.state.limits = limits
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": ("body",), "msg": "invalid request"}
        field = ".".join(str(part) for part in first.get("loc", ("body",)))
        return error_response(422, field, str(first.get("msg", "invalid request")))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        field = "body" if err.status_code == 400 else "request"
        return error_response(err.status_code, field, str(err.detail))

    @app.exception_handler(ApiError)
    async def refused(_: Request, err: ApiError) -> JSONResponse:
        return error_response(err.status, err.field, err.message)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(resources.files("bioner.serve").joinpath("page.html").read_text(encoding="utf-8"))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "in_flight": in_flight["count"], "model_calls": batcher.model_calls}

    @app.get("/model")
    async def model() -> dict[str, Any]:
        return {"labels": tagger.labels, "limits": asdict(limits), **(model_info or {})}

    async def annotate_docs(
        docs: list[Document], labels: Sequence[str] | None, output: str, report: Report
    ) -> Response:
        if in_flight["count"] >= limits.max_concurrent:
            return error_response(429, "request", f"the server holds {limits.max_concurrent} requests; retry later")
        in_flight["count"] += 1
        try:
            _check_sizes(docs, limits)
            try:
                predicted = await batcher.submit(docs, labels)
            except BionerError as err:
                raise ApiError(422, "labels" if labels else "documents", str(err)) from None
        finally:
            in_flight["count"] -= 1
        return _answer(predicted, output, report)

    @app.post("/annotate")
    async def annotate(request: AnnotateRequest) -> Response:
        """Tag texts or documents; entities come with character offsets into each text and a score."""
        report = Report()
        return await annotate_docs(_documents(request, report), request.labels, request.output, report)

    @app.post("/annotate/file")
    async def annotate_file(
        file: UploadFile = File(description="a document file in any format bioner reads"),  # noqa: B008
        format: str | None = Form(
            default=None,
            description="a bioner format name (pubtator, bioc-xml, text...); default: by file name",
        ),
        labels: str | None = Form(default=None, description="comma-separated labels"),
        output: Literal["json", "bioc", "pubtator"] = Form(default="json"),
    ) -> Response:
        """Tag the documents of an uploaded file (BioC XML/JSON, PubTator, JSONL, BRAT, CoNLL, plain text)."""
        if format is not None and format not in FORMATS and format != TEXT:
            known = ", ".join(sorted([*FORMATS, TEXT]))
            raise ApiError(422, "format", f"unknown format {format!r}; one of {known}")
        content = await file.read()
        report = Report()
        docs = _read_upload(content, Path(file.filename or "upload").suffix, format, report)
        wanted = [label.strip() for label in labels.split(",") if label.strip()] if labels else None
        return await annotate_docs(docs, wanted, output, report)

    return app


def _predictor(tagger: Tagger) -> Callable[[list[Document], Sequence[str] | None], list[Document]]:
    def predict(docs: list[Document], labels: Sequence[str] | None) -> list[Document]:
        return tagger.predict(docs, labels=list(labels) if labels is not None else None, report=Report())

    return predict


def _documents(request: AnnotateRequest, report: Report) -> list[Document]:
    given = [name for name in ("text", "texts", "documents") if getattr(request, name) is not None]
    if len(given) != 1:
        raise ApiError(422, "body", "give exactly one of 'text', 'texts' or 'documents'")
    if request.text is not None:
        return [Document("text-0", request.text)]
    if request.texts is not None:
        return [Document(f"text-{i}", text) for i, text in enumerate(request.texts)]
    docs = []
    for i, record in enumerate(request.documents or []):
        try:
            docs.append(from_record(record, report=report))
        except BionerError as err:
            raise ApiError(422, f"documents.{i}", str(err).split(": ", 1)[-1]) from None
    return docs


def _check_sizes(docs: list[Document], limits: Limits) -> None:
    if len(docs) > limits.max_texts:
        raise ApiError(422, "texts", f"{len(docs)} texts in one request; the limit is {limits.max_texts}")
    for i, doc in enumerate(docs):
        if len(doc.text) > limits.max_chars:
            raise ApiError(422, f"texts.{i}", f"{len(doc.text)} characters; the limit is {limits.max_chars} a text")


def _read_upload(content: bytes, suffix: str, fmt: str | None, report: Report) -> list[Document]:
    """Documents from uploaded bytes, read by bioner's own readers from a private temporary file."""
    safe_suffix = suffix if suffix.replace(".", "").isalnum() and len(suffix) <= 12 else ""
    with tempfile.TemporaryDirectory(prefix="bioner-upload-") as tmp:
        path = Path(tmp) / f"upload{safe_suffix}"
        path.write_bytes(content)
        try:
            return read_input(path, fmt, report)
        except BionerError as err:
            message = str(err).replace(str(path), "file").replace("give it with --from/--to", "give it as 'format'")
            raise ApiError(422, "file", message) from None
        except UnicodeDecodeError:
            raise ApiError(422, "file", "the file is not UTF-8 text") from None


def _answer(docs: list[Document], output: str, report: Report) -> Response:
    """The tagged documents; what reading or writing them tolerated or lost is in ``report`` (JSON) or the
    ``X-Bioner-Report`` header (BioC, PubTator), never dropped silently."""
    if output == "json":
        return JSONResponse({"documents": [to_record(doc) for doc in docs], "report": report.lines()})
    fmt = {"bioc": "bioc-xml", "pubtator": "pubtator"}[output]
    with tempfile.TemporaryDirectory(prefix="bioner-answer-") as tmp:
        path = Path(tmp) / "answer"
        report.merge(write_documents(docs, path, fmt))
        headers = {"X-Bioner-Report": "; ".join(report.lines())} if report else None
        return PlainTextResponse(path.read_text(encoding="utf-8"), media_type=OUTPUTS[output], headers=headers)


def _version() -> str:
    import bioner

    return bioner.__version__


async def serve_forever(app: FastAPI, host: str, port: int, graceful_seconds: float = 30.0) -> None:
    """Run ``app`` with uvicorn until SIGINT/SIGTERM; in-flight requests finish first."""
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, timeout_graceful_shutdown=int(graceful_seconds), log_level="info"
    )
    await uvicorn.Server(config).serve()
