"""The Python API: bioner.load(...)(text | texts | documents), clear TypeErrors, hub names through the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bioner
from bioner.errors import BionerError
from bioner.formats import read_documents
from bioner.types import Document

FIXTURES = Path(__file__).parent / "fixtures" / "encoder"
TEST = list(read_documents(FIXTURES / "test.jsonl"))


def test_a_loaded_tagger_takes_a_text_texts_or_documents(tiny_model: Path) -> None:
    tagger = bioner.load(tiny_model, batch_size=8)
    text = TEST[0].text
    one = tagger(text)
    assert isinstance(one, Document) and one.text == text
    many = tagger([text, TEST[1].text])
    assert [d.text for d in many] == [text, TEST[1].text] and many[0].entities == one.entities
    docs = tagger(TEST)
    assert [d.id for d in docs] == [d.id for d in TEST]
    assert tagger(TEST[0]).entities == one.entities
    assert tagger.labels == ["Disease", "Gene"]
    assert tagger(text, labels=["Gene"]).entities == tuple(e for e in one.entities if e.label == "Gene")


@pytest.mark.parametrize("wrong", [42, b"bytes", [1, 2], None])
def test_a_wrong_input_type_is_a_type_error(tiny_model: Path, wrong: object) -> None:
    tagger = bioner.load(tiny_model)
    with pytest.raises(TypeError, match=r"str|Document"):
        tagger(wrong)  # type: ignore[call-overload]


def test_an_encoder_refuses_labels_it_was_not_trained_on(tiny_model: Path) -> None:
    with pytest.raises(BionerError, match="tags only Disease, Gene; it cannot tag Species"):
        bioner.load(tiny_model)("text", labels=["Species"])


def test_a_hub_name_loads_from_the_hub_cache_offline(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real snapshot_download path, on a cache laid out as the hub lays it out (no network)."""
    cache = tmp_path / "hub"
    snapshot = cache / "models--bioner-test--tiny-tagger" / "snapshots" / ("0" * 40)
    shutil.copytree(tiny_model, snapshot)
    (cache / "models--bioner-test--tiny-tagger" / "refs").mkdir()
    (cache / "models--bioner-test--tiny-tagger" / "refs" / "main").write_text("0" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    tagger = bioner.load("bioner-test/tiny-tagger")
    assert tagger(TEST[0].text).entities == bioner.load(tiny_model)(TEST[0].text).entities
    with pytest.raises(BionerError, match="not in the hub cache"):
        bioner.load("bioner-test/absent")


def test_read_write_and_evaluate(tmp_path: Path) -> None:
    docs = bioner.read(FIXTURES / "test.jsonl")
    report = bioner.write(docs, tmp_path / "copy.pubtator")
    assert not report.losses or all("id" in what or "score" in what for what in report.losses)
    assert bioner.evaluate(docs, docs).overall["strict"].f1 == 1.0
    with pytest.raises(TypeError, match="expected bioner Documents"):
        bioner.evaluate(docs, ["not a document"])  # type: ignore[list-item]
    with pytest.raises(BionerError, match="no such file"):
        bioner.read(tmp_path / "missing.jsonl")
