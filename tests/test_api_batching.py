"""The micro-batcher alone, with a recording analyze function instead of the model."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.batching import MicroBatcher, QueueFullError
from nlp.schema import Result


class Recorder:
    """Stands in for ``analyzer.analyze``: echoes each text in ``Result.id`` and records every call."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[list[str], list[str] | None]] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on

    def __call__(self, texts: list[str], ids: list[str | None], tasks: list[str] | None) -> list[Result]:
        self.calls.append((list(texts), tasks))
        self.threads.add(threading.get_ident())
        if self.fail_on in texts:
            raise RuntimeError("boom")
        return [Result(id=f"{text}|{','.join(tasks) if tasks else '*'}") for text in texts]


def run_with(recorder: Recorder, scenario: Callable[[MicroBatcher], Awaitable[object]], **options: float) -> object:
    async def main() -> object:
        batcher = MicroBatcher(
            recorder,
            batch_size=int(options.get("batch_size", 64)),
            wait_s=options.get("wait_s", 0.02),
            max_queue=int(options.get("max_queue", 1000)),
        )
        batcher.start()
        try:
            return await scenario(batcher)
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_concurrent_requests_share_one_analyzer_call() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> list[list[Result]]:
        return await asyncio.gather(*(batcher.submit([f"t{i}"], [None], None) for i in range(10)))

    answers = run_with(recorder, scenario, wait_s=0.05)
    assert len(recorder.calls) == 1 and len(recorder.calls[0][0]) == 10
    assert [answer[0].id for answer in answers] == [f"t{i}|*" for i in range(10)]


def test_full_batches_flush_without_waiting() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await batcher.submit([str(i) for i in range(8)], [None] * 8, None)
        return loop.time() - start

    assert run_with(recorder, scenario, batch_size=4, wait_s=30) < 5
    assert [len(texts) for texts, _ in recorder.calls] == [4, 4]


def test_a_lone_text_waits_no_longer_than_the_wait() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await batcher.submit(["alone"], [None], None)
        return loop.time() - start

    assert run_with(recorder, scenario, wait_s=0.01) < 1.0


def test_task_sets_are_never_mixed_in_one_call() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> list[list[Result]]:
        return await asyncio.gather(
            batcher.submit(["a"], [None], ["sentiment"]),
            batcher.submit(["b"], [None], ["emotion", "sentiment"]),
            batcher.submit(["c"], [None], None),
            batcher.submit(["d"], [None], ["sentiment", "sentiment"]),
        )

    answers = run_with(recorder, scenario)
    assert [answer[0].id for answer in answers] == ["a|sentiment", "b|emotion,sentiment", "c|*", "d|sentiment"]
    assert sorted((tuple(texts), tuple(tasks or ["*"])) for texts, tasks in recorder.calls) == [
        (("a", "d"), ("sentiment",)),
        (("b",), ("emotion", "sentiment")),
        (("c",), ("*",)),
    ]


def test_an_empty_request_answers_at_once_and_leaves_the_worker_running() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> list[list[Result]]:
        return [await batcher.submit([], [], None), await batcher.submit(["after"], [None], None)]

    assert run_with(recorder, scenario) == [[], [Result(id="after|*")]]
    assert recorder.calls == [(["after"], None)]


def test_the_queue_is_bounded() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> int:
        with pytest.raises(QueueFullError):
            await batcher.submit(["1", "2", "3", "4"], [None] * 4, None)
        return batcher.depth

    assert run_with(recorder, scenario, max_queue=3) == 0
    assert recorder.calls == []


def test_inference_runs_on_one_thread_off_the_event_loop() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> int:
        for i in range(3):
            await batcher.submit([str(i)], [None], None)
        await batcher.run_exclusive(lambda: recorder.threads.add(threading.get_ident()))
        return threading.get_ident()

    loop_thread = run_with(recorder, scenario)
    assert len(recorder.threads) == 1 and loop_thread not in recorder.threads


def test_a_text_that_breaks_the_analyzer_fails_alone() -> None:
    recorder = Recorder(fail_on="poison")

    async def scenario(batcher: MicroBatcher) -> list[list[Result]]:
        return await asyncio.gather(*(batcher.submit([text], [None], None) for text in ["ok1", "poison", "ok2"]))

    answers = run_with(recorder, scenario)
    assert [answer[0].id for answer in (answers[0], answers[2])] == ["ok1|*", "ok2|*"]
    assert answers[1][0].error is not None and answers[1][0].error.code == "internal"


def test_texts_of_a_cancelled_request_are_skipped() -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> None:
        doomed = asyncio.create_task(batcher.submit(["gone"], [None], None))
        await asyncio.sleep(0)  # let it enqueue
        doomed.cancel()
        await batcher.submit(["kept"], [None], None)

    run_with(recorder, scenario, wait_s=0.05)
    assert [texts for texts, _ in recorder.calls] == [["kept"]]


requests_strategy = st.lists(
    st.tuples(
        st.lists(st.text(alphabet="abc", min_size=1, max_size=3), min_size=1, max_size=5),
        st.sampled_from([None, ["sentiment"], ["emotion"], ["emotion", "sentiment"]]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(requests_strategy, st.integers(min_value=1, max_value=6))
def test_every_request_gets_its_own_results_in_order(requests: list, batch_size: int) -> None:
    recorder = Recorder()

    async def scenario(batcher: MicroBatcher) -> list[list[Result]]:
        return await asyncio.gather(*(batcher.submit(texts, [None] * len(texts), tasks) for texts, tasks in requests))

    answers = run_with(recorder, scenario, batch_size=batch_size, wait_s=0.001)
    for (texts, tasks), answer in zip(requests, answers):
        suffix = ",".join(sorted(set(tasks))) if tasks else "*"
        assert [result.id for result in answer] == [f"{text}|{suffix}" for text in texts]
    assert all(len(texts) <= batch_size for texts, _ in recorder.calls)
