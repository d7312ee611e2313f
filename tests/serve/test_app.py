"""The HTTP API on a real server: answers with exact offsets, every limit and malformed input a 4xx."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from bioner.api import Tagger
from bioner.formats import read_documents
from bioner.serve.batching import MicroBatcher
from bioner.types import Document

SENTENCE = "Mutations in BRCA1 cause breast cancer and ataxia telangiectasia."


def _check_offsets(answer: dict, texts: Sequence[str]) -> None:
    docs = answer["documents"]
    assert [d["text"] for d in docs] == list(texts)
    for doc in docs:
        for e in doc["entities"]:
            assert 0 <= e["start"] < e["end"] <= len(doc["text"])
            assert doc["text"][e["start"] : e["end"]] == e["text"]


def test_text_texts_and_documents_are_tagged_like_the_python_api(url: str, tagger: Tagger) -> None:
    one = httpx.post(f"{url}/annotate", json={"text": SENTENCE})
    assert one.status_code == 200
    _check_offsets(one.json(), [SENTENCE])
    expected = [(e.start, e.end, e.label) for e in tagger(SENTENCE).entities]
    assert [(e["start"], e["end"], e["label"]) for e in one.json()["documents"][0]["entities"]] == expected
    many = httpx.post(f"{url}/annotate", json={"texts": [SENTENCE, "No entity here."]})
    _check_offsets(many.json(), [SENTENCE, "No entity here."])
    records = httpx.post(f"{url}/annotate", json={"documents": [{"id": "pmid-1", "text": SENTENCE}]})
    assert records.json()["documents"][0]["id"] == "pmid-1"


def test_bioc_and_pubtator_answers_read_back(url: str, tmp_path: Path) -> None:
    for output, name in (("bioc", "a.xml"), ("pubtator", "a.pubtator")):
        answer = httpx.post(f"{url}/annotate", json={"text": SENTENCE, "output": output})
        assert answer.status_code == 200
        (tmp_path / name).write_text(answer.text, encoding="utf-8")
        docs = list(read_documents(tmp_path / name))
        assert docs[0].text.strip() == SENTENCE


def test_an_uploaded_pubtator_file_keeps_its_document_ids(url: str) -> None:
    pubtator = b"123|t|Breast cancer genes\n123|a|BRCA1 mutations cause breast cancer.\n\n"
    answer = httpx.post(f"{url}/annotate/file", files={"file": ("abstracts.pubtator", pubtator)})
    assert answer.status_code == 200 and answer.json()["documents"][0]["id"] == "123"
    text = httpx.post(f"{url}/annotate/file", files={"file": ("notes.txt", b"first line\n\nsecond line\n")})
    assert [d["text"] for d in text.json()["documents"]] == ["first line", "second line"]
    assert text.json()["report"] == ["warning: upload.txt: blank lines skipped: 1"]  # said, not dropped silently


@pytest.mark.parametrize(
    ("request_kwargs", "status", "field"),
    [
        ({"json": {"texts": "not a list"}}, 422, "body.texts"),
        ({"json": {"text": 3}}, 422, "body.text"),
        ({"json": {"text": "a", "texts": ["b"]}}, 422, "body"),
        ({"json": {}}, 422, "body"),
        ({"json": {"text": "a", "model": "/etc/passwd"}}, 422, "body.model"),
        ({"json": {"documents": [{"id": "d", "text": 5}]}}, 422, "documents.0"),
        ({"json": {"texts": ["a"] * 6}}, 422, "texts"),
        ({"json": {"texts": ["ok", "x" * 2_001]}}, 422, "texts.1"),
        ({"json": {"text": "a", "output": "xlsx"}}, 422, "body.output"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "body.1"),
        ({"content": b'{"text": "\xff\xfe"}', "headers": {"content-type": "application/json"}}, 400, "body"),
        ({"json": {"text": "x" * 30_000}}, 413, "body"),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_field(url: str, request_kwargs: dict, status: int, field: str) -> None:
    answer = httpx.post(f"{url}/annotate", **request_kwargs)
    assert answer.status_code == status, answer.text
    assert answer.json()["field"].startswith(field.split(".")[0]) and answer.json()["error"]
    if "." in field:
        assert answer.json()["field"] == field


def test_a_streamed_body_over_the_limit_is_cut_at_the_limit(url: str) -> None:
    def chunks():  # no Content-Length: the server counts what arrives
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * 1_000
        yield b'"}'

    answer = httpx.post(f"{url}/annotate", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["field"] == "body"


def test_bad_uploads_are_422_and_the_server_keeps_answering(url: str) -> None:
    unknown = httpx.post(f"{url}/annotate/file", files={"file": ("data.bin", b"\x00\x01")})
    assert unknown.status_code == 422 and unknown.json()["field"] == "file"
    assert "'format'" in unknown.json()["error"]
    wrong = httpx.post(f"{url}/annotate/file", files={"file": ("a.pubtator", b"1|t|abc\n1\t9\t2\tab\tDisease\n")})
    assert wrong.status_code == 422 and wrong.json()["field"] == "file"
    named = httpx.post(f"{url}/annotate/file", files={"file": ("a", b"x")}, data={"format": "../../etc"})
    assert named.status_code == 422 and named.json()["field"] == "format"
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_health_model_page_and_openapi(url: str) -> None:
    model = httpx.get(f"{url}/model").json()
    assert model["backend"] == "encoder" and model["labels"] and model["limits"]["max_texts"] == 5
    page = httpx.get(f"{url}/")
    assert page.status_code == 200 and "<textarea" in page.text and "http" not in page.text.split("<script>")[0]
    assert "/annotate" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_concurrent_requests_share_model_calls(url: str) -> None:
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(*(client.post("/annotate", json={"text": SENTENCE}) for _ in range(16)))

    before = httpx.get(f"{url}/health").json()["model_calls"]
    answers = asyncio.run(burst())
    calls = httpx.get(f"{url}/health").json()["model_calls"] - before
    assert all(a.status_code == 200 for a in answers)
    assert len({a.text for a in answers}) == 1  # batched or not, every request gets its own full answer
    assert 1 <= calls <= 16


def test_the_batcher_gathers_queued_requests_into_one_call_and_keeps_labels_apart() -> None:
    calls: list[tuple[int, tuple[str, ...] | None]] = []

    def predict(docs: list[Document], labels: Sequence[str] | None) -> list[Document]:
        calls.append((len(docs), tuple(labels) if labels is not None else None))
        return [d.with_entities(()) for d in docs]

    async def run() -> list[list[Document]]:
        batcher = MicroBatcher(predict, max_batch=32, max_wait_ms=1_000)
        batcher.start()
        jobs = [batcher.submit([Document(f"d{i}", "text")], None) for i in range(8)]
        jobs.append(batcher.submit([Document("other", "text")], ["Gene"]))
        answers = await asyncio.gather(*jobs)
        await batcher.stop()
        return answers

    answers = asyncio.run(run())
    assert [a[0].id for a in answers] == [*(f"d{i}" for i in range(8)), "other"]
    assert calls == [(8, None), (1, ("Gene",))]


def test_a_failing_model_call_fails_its_requests_and_the_batcher_serves_on() -> None:
    def predict(docs: list[Document], labels: Sequence[str] | None) -> list[Document]:
        if labels:
            raise ValueError("bad labels")
        return list(docs)

    async def run() -> tuple[BaseException | list[Document], list[Document]]:
        batcher = MicroBatcher(predict, max_wait_ms=1)
        batcher.start()
        failed = await asyncio.gather(batcher.submit([Document("a", "x")], ["X"]), return_exceptions=True)
        served = await batcher.submit([Document("b", "y")], None)
        await batcher.stop()
        return failed[0], served

    failed, served = asyncio.run(run())
    assert isinstance(failed, ValueError) and [d.id for d in served] == ["b"]
