"""Inference time per document, recorded by every prediction run and reported next to the scores.

The papers compare systems on the average inference time per test instance as well as on
F1, so a run keeps each document's latency (mean, median, 95th percentile) and its
throughput. Saved predictions carry it in a sidecar ``<predictions>.timing.json`` that
``bioner evaluate`` reads when present.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bioner.errors import InputError
from bioner.formats.common import open_write, read_text
from bioner.text import tokenize
from bioner.types import Document


@dataclass(frozen=True)
class Timing:
    """Latency per document (ms) and throughput of one prediction run.

    Percentiles use linear interpolation between documents (numpy's default).
    Throughput divides by ``wall_s``, the run's elapsed time, which defaults to the sum
    of the latencies; a zero duration gives a throughput of 0.0.
    """

    documents: int
    tokens: int
    total_s: float
    wall_s: float
    mean_ms: float
    p50_ms: float
    p95_ms: float
    docs_per_s: float
    tokens_per_s: float

    @classmethod
    def from_latencies(cls, latencies_s: Sequence[float], tokens: Sequence[int], wall_s: float | None = None) -> Timing:
        """Summarise per-document latencies (seconds) and token counts (one per document)."""
        if len(latencies_s) != len(tokens):
            raise ValueError(f"{len(latencies_s)} latencies but {len(tokens)} token counts")
        if any(t < 0 for t in latencies_s) or (wall_s is not None and wall_s < 0):
            raise ValueError("latencies and wall time must not be negative")
        seconds = np.asarray(latencies_s, dtype=np.float64)
        total = float(seconds.sum())
        wall = total if wall_s is None else float(wall_s)
        n_tokens = int(sum(tokens))
        if seconds.size:
            mean, p50, p95 = float(seconds.mean()), *(float(x) for x in np.percentile(seconds, [50, 95]))
        else:
            mean = p50 = p95 = 0.0
        return cls(
            documents=len(seconds),
            tokens=n_tokens,
            total_s=total,
            wall_s=wall,
            mean_ms=mean * 1000,
            p50_ms=p50 * 1000,
            p95_ms=p95 * 1000,
            docs_per_s=len(seconds) / wall if wall > 0 else 0.0,
            tokens_per_s=n_tokens / wall if wall > 0 else 0.0,
        )

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Timing:
        """The inverse of :meth:`to_dict`; raises KeyError, TypeError or ValueError on a bad mapping."""
        if not isinstance(data, Mapping):
            raise TypeError("expected a JSON object")
        values = {name: data[name] for name in cls.__dataclass_fields__}
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name!r} must be a number, got {value!r}")
        return cls(**values)


def token_count(doc: Document) -> int:
    """Word tokens of the document text (``bioner.text.tokenize``), the unit of tokens/s."""
    return len(tokenize(doc.text))


class LatencyRecorder:
    """Collects per-document latencies while a backend predicts.

    ``with recorder.measure(doc_or_batch): ...`` times one document or one batch; a
    batch's time is split evenly over its documents, since a batched forward pass has
    no per-document cost to read off. The wall time runs from the first measurement's
    start to the last one's end, so work between batches counts against throughput.
    """

    def __init__(self, count_tokens: Callable[[Document], int] = token_count) -> None:
        self.count_tokens = count_tokens
        self.latencies_s: list[float] = []
        self.tokens: list[int] = []
        self._first: float | None = None
        self._last: float | None = None

    @contextmanager
    def measure(self, docs: Document | Sequence[Document]) -> Iterator[None]:
        batch = [docs] if isinstance(docs, Document) else list(docs)
        start = time.perf_counter()
        if self._first is None:
            self._first = start
        yield
        end = time.perf_counter()
        self._last = end
        if batch:
            share = (end - start) / len(batch)
            self.latencies_s.extend([share] * len(batch))
            self.tokens.extend(self.count_tokens(d) for d in batch)

    def timing(self) -> Timing:
        wall = self._last - self._first if self._first is not None and self._last is not None else None
        return Timing.from_latencies(self.latencies_s, self.tokens, wall)


def sidecar_path(predictions: str | Path) -> Path:
    """``<predictions>.timing.json``, beside the predictions file."""
    p = Path(predictions)
    return p.with_name(p.name + ".timing.json")


def write_sidecar(timing: Timing, predictions: str | Path) -> Path:
    path = sidecar_path(predictions)
    with open_write(path) as out:
        out.write(json.dumps(timing.to_dict(), indent=2) + "\n")
    return path


def read_sidecar(predictions: str | Path) -> Timing | None:
    """The timing saved beside ``predictions``, or None when there is none."""
    path = sidecar_path(predictions)
    if not path.is_file():
        return None
    try:
        return Timing.from_dict(json.loads(read_text(path)))
    except json.JSONDecodeError as err:
        raise InputError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    except KeyError as err:
        raise InputError(path, None, f"missing field {err.args[0]!r}") from None
    except (TypeError, ValueError) as err:
        raise InputError(path, None, str(err)) from None
