"""Micro-batching: texts from concurrent requests share one analyzer call.

Requests put their texts on a bounded queue and await one future per text. A single worker
coroutine flushes a batch when the oldest task-set has ``batch_size`` texts or its oldest text
has waited ``wait_s``, and runs ``analyze`` on ONE dedicated thread: inference never blocks the
event loop, and the model is never entered by two threads at once (so reloads through
``run_exclusive`` cannot race a batch). While a batch runs, new texts accumulate, so batches
grow with load on their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from nlp.schema import ItemError, Result

log = logging.getLogger(__name__)

T = TypeVar("T")
TaskKey = tuple[str, ...] | None  # None: every component
AnalyzeFn = Callable[[list[str], list[str | None], list[str] | None], list[Result]]


class QueueFullError(RuntimeError):
    """More texts are waiting than ``max_queue``; the caller should retry later."""


@dataclass
class _Pending:
    text: str
    id: str | None
    future: asyncio.Future[Result]
    enqueued: float


def task_key(tasks: Sequence[str] | None) -> TaskKey:
    return tuple(sorted(set(tasks))) if tasks is not None else None


class MicroBatcher:
    def __init__(
        self,
        analyze: AnalyzeFn,
        *,
        batch_size: int,
        wait_s: float,
        max_queue: int,
        on_batch: Callable[[int], None] = lambda size: None,
    ) -> None:
        self._analyze = analyze
        self.batch_size = batch_size
        self.wait_s = wait_s
        self.max_queue = max_queue
        self._on_batch = on_batch
        self._groups: dict[TaskKey, deque[_Pending]] = {}
        self._depth = 0
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voc-inference")
        self._worker: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        """Texts waiting for the analyzer (not counting the batch now running)."""
        return self._depth

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="voc-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for group in self._groups.values():
            for pending in group:
                pending.future.cancel()
        self._groups.clear()
        self._depth = 0
        self._executor.shutdown(wait=True)

    async def run_exclusive(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the inference thread, between batches."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def submit(
        self, texts: Sequence[str], ids: Sequence[str | None], tasks: Sequence[str] | None
    ) -> list[Result]:
        """Results for ``texts`` in order; raises QueueFullError instead of queueing past ``max_queue``."""
        if not texts:
            return []
        if self._depth + len(texts) > self.max_queue:
            raise QueueFullError(f"{self._depth} texts are waiting; the queue holds {self.max_queue}")
        loop = asyncio.get_running_loop()
        now = loop.time()
        group = self._groups.setdefault(task_key(tasks), deque())
        futures = []
        for text, item_id in zip(texts, ids):
            future: asyncio.Future[Result] = loop.create_future()
            group.append(_Pending(text, item_id, future, now))
            futures.append(future)
        self._depth += len(texts)
        self._wakeup.set()
        return list(await asyncio.gather(*futures))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._groups:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                key = await self._wait_for_fill(loop)
                batch = self._take(key)
                if batch:
                    await self._execute(batch, key)
            except Exception:
                # A dead worker would leave every later request waiting forever: log and go on.
                log.exception("micro-batcher iteration failed")
                await asyncio.sleep(0.01)  # never spin the event loop if the failure repeats

    async def _wait_for_fill(self, loop: asyncio.AbstractEventLoop) -> TaskKey:
        """The task-set to flush: the one holding the oldest text, once full or out of waiting time."""
        key, group = min(self._groups.items(), key=lambda entry: entry[1][0].enqueued)
        deadline = group[0].enqueued + self.wait_s
        while len(group) < self.batch_size and (remaining := deadline - loop.time()) > 0:
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                break
        return key

    def _take(self, key: TaskKey) -> list[_Pending]:
        group = self._groups[key]
        taken = [group.popleft() for _ in range(min(self.batch_size, len(group)))]
        if not group:
            del self._groups[key]
        self._depth -= len(taken)
        # Texts whose request went away (client disconnected) are not worth a forward pass.
        return [pending for pending in taken if not pending.future.done()]

    async def _execute(self, batch: list[_Pending], key: TaskKey) -> None:
        tasks = list(key) if key is not None else None
        self._on_batch(len(batch))
        try:
            results = await self.run_exclusive(
                lambda: self._analyze([p.text for p in batch], [p.id for p in batch], tasks)
            )
        except Exception:
            # The analyzer promises per-item errors; if it raises anyway, isolate the bad text
            # so the other callers in this batch still get their results.
            log.exception("analyzer raised on a batch of %d texts; retrying them one at a time", len(batch))
            results = [await self._analyze_alone(pending, tasks) for pending in batch]
        for pending, result in zip(batch, results):
            if not pending.future.done():
                pending.future.set_result(result)

    async def _analyze_alone(self, pending: _Pending, tasks: list[str] | None) -> Result:
        try:
            return (await self.run_exclusive(lambda: self._analyze([pending.text], [pending.id], tasks)))[0]
        except Exception:
            log.exception("analyzer raised on a single text")
            return Result(id=pending.id, error=ItemError(code="internal", message="analysis failed; see server logs"))
