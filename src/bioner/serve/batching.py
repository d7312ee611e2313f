"""Dynamic micro-batching: concurrent requests share one model call.

A model call costs much more than its share of documents, so the server gathers the documents of
requests that arrive within ``max_wait_ms`` of each other (up to ``max_batch`` documents) and runs
them as one batch in a worker thread, which keeps the event loop free to accept more requests.
Requests asking for different labels are never mixed in one call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bioner.types import Document

Predict = Callable[[list[Document], Sequence[str] | None], list[Document]]


@dataclass
class _Job:
    docs: list[Document]
    labels: tuple[str, ...] | None
    done: asyncio.Future[list[Document]]


@dataclass
class MicroBatcher:
    """Runs ``predict`` on batches gathered from concurrent :meth:`submit` calls."""

    predict: Predict
    max_batch: int = 32
    max_wait_ms: float = 10.0
    model_calls: int = 0
    """How many model calls ran (what the batching saves is requests minus this)."""
    _queue: asyncio.Queue[_Job] = field(default_factory=asyncio.Queue)
    _worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish every queued job, then stop (graceful shutdown)."""
        await self._queue.join()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def submit(self, docs: list[Document], labels: Sequence[str] | None) -> list[Document]:
        job = _Job(docs, tuple(labels) if labels is not None else None, asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        return await job.done

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            jobs = [first]
            size = len(first.docs)
            deadline = asyncio.get_running_loop().time() + self.max_wait_ms / 1000
            held: list[_Job] = []  # jobs with other labels wait for the next batch
            while size < self.max_batch:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
                if job.labels != first.labels or size + len(job.docs) > self.max_batch:
                    held.append(job)
                    break
                jobs.append(job)
                size += len(job.docs)
            await self._call(jobs)
            for job in held:
                await self._call([job])

    async def _call(self, jobs: list[_Job]) -> None:
        docs = [doc for job in jobs for doc in job.docs]
        try:
            self.model_calls += 1
            predicted = await asyncio.to_thread(self.predict, docs, jobs[0].labels)
        except Exception as err:  # the error goes to every waiting request; the worker keeps serving
            for job in jobs:
                if not job.done.done():
                    job.done.set_exception(err)
        else:
            start = 0
            for job in jobs:
                if not job.done.done():
                    job.done.set_result(predicted[start : start + len(job.docs)])
                start += len(job.docs)
        finally:
            for _ in jobs:
                self._queue.task_done()
