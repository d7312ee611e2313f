"""Latency summaries, the recorder backends call, and the sidecar file beside predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.errors import InputError
from bioner.timing import LatencyRecorder, Timing, read_sidecar, sidecar_path, token_count, write_sidecar
from bioner.types import Document


def test_summary_of_latencies() -> None:
    t = Timing.from_latencies([0.010, 0.020, 0.030, 0.100], [10, 20, 30, 40], wall_s=0.5)
    assert t.documents == 4 and t.tokens == 100
    assert t.mean_ms == pytest.approx(40.0)
    assert t.p50_ms == pytest.approx(25.0)
    assert t.p95_ms == pytest.approx(89.5)  # linear interpolation between 30 and 100 ms
    assert t.total_s == pytest.approx(0.16)
    assert t.docs_per_s == pytest.approx(8.0)
    assert t.tokens_per_s == pytest.approx(200.0)


def test_wall_time_defaults_to_the_sum_of_latencies() -> None:
    t = Timing.from_latencies([0.25, 0.25], [3, 5])
    assert (t.wall_s, t.docs_per_s, t.tokens_per_s) == (0.5, 4.0, 16.0)


def test_no_documents_and_zero_durations_give_zeros() -> None:
    assert Timing.from_latencies([], []).to_dict() == dict.fromkeys(Timing.__dataclass_fields__, 0)
    assert Timing.from_latencies([0.0], [4]).tokens_per_s == 0.0


def test_mismatched_or_negative_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="2 latencies but 1 token counts"):
        Timing.from_latencies([0.1, 0.2], [3])
    with pytest.raises(ValueError, match="negative"):
        Timing.from_latencies([-0.1], [3])


def test_recorder_splits_a_batch_evenly_and_counts_tokens() -> None:
    docs = [Document("a", "BRCA1 is a gene."), Document("b", "TP53")]
    recorder = LatencyRecorder()
    with recorder.measure(docs):
        pass
    with recorder.measure(docs[0]):
        pass
    assert len(recorder.latencies_s) == 3
    assert recorder.latencies_s[0] == recorder.latencies_s[1]
    assert recorder.tokens == [5, 1, 5]
    t = recorder.timing()
    assert t.documents == 3 and t.tokens == 11
    assert t.wall_s >= t.total_s - 1e-9


def test_a_failed_measurement_records_nothing() -> None:
    recorder = LatencyRecorder(count_tokens=lambda d: 1)
    with pytest.raises(RuntimeError), recorder.measure(Document("a", "x")):
        raise RuntimeError("backend failed")
    assert recorder.latencies_s == []


def test_token_count_uses_the_word_tokenizer() -> None:
    assert token_count(Document("a", "IL-2 (human)")) == 6


def test_sidecar_round_trip(tmp_path: Path) -> None:
    pred = tmp_path / "pred.jsonl"
    assert read_sidecar(pred) is None
    t = Timing.from_latencies([0.01, 0.02], [4, 6], wall_s=0.05)
    path = write_sidecar(t, pred)
    assert path == sidecar_path(pred) == tmp_path / "pred.jsonl.timing.json"
    assert read_sidecar(pred) == t


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"documents": 1}', "missing field 'tokens'"),
        (json.dumps({**Timing.from_latencies([0.1], [1]).to_dict(), "mean_ms": "fast"}), "'mean_ms' must be a number"),
    ],
)
def test_a_bad_sidecar_is_an_input_error(tmp_path: Path, content: str, message: str) -> None:
    pred = tmp_path / "pred.jsonl"
    sidecar_path(pred).write_text(content)
    with pytest.raises(InputError, match=message):
        read_sidecar(pred)
