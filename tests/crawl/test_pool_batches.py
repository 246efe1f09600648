"""Calls to a process pool sent in batches: each caller gets its own outcome."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from caseharvest.crawl.pool_batches import MAX_BATCH, PoolBatches


def half_of(number: int) -> int:
    if number % 2:
        raise ValueError(f"{number} is odd")
    return number // 2


def test_each_call_gets_its_result_or_its_own_error_from_a_worker() -> None:
    batches: PoolBatches[int] = PoolBatches(half_of)

    async def calls(pool: ProcessPoolExecutor) -> list[int | BaseException]:
        return await asyncio.gather(
            *(batches.call(pool, number) for number in range(MAX_BATCH + 3)),
            return_exceptions=True,
        )

    with ProcessPoolExecutor(1) as pool:
        outcomes = asyncio.run(calls(pool))
    for number, outcome in enumerate(outcomes):
        if number % 2:
            # One call's failure is that call's alone, its message kept across processes.
            assert isinstance(outcome, ValueError) and str(outcome) == f"{number} is odd"
        else:
            assert outcome == number // 2


def test_a_broken_pool_fails_every_call_waiting_on_it() -> None:
    pool = ProcessPoolExecutor(1)
    with pytest.raises(BrokenProcessPool):  # its worker dies
        pool.submit(exit_now).result()
    batches: PoolBatches[int] = PoolBatches(half_of)

    async def calls() -> list[int | BaseException]:
        return await asyncio.gather(
            *(batches.call(pool, number) for number in range(3)), return_exceptions=True
        )

    outcomes = asyncio.run(calls())
    pool.shutdown()
    assert len(outcomes) == 3
    assert all(isinstance(outcome, BrokenProcessPool) for outcome in outcomes)


def test_calls_not_sent_yet_end_cancelled_when_the_pool_closes() -> None:
    batches: PoolBatches[int] = PoolBatches(half_of)

    async def call_then_close(pool: ProcessPoolExecutor) -> BaseException | int:
        pending = asyncio.ensure_future(batches.call(pool, 2))
        await asyncio.sleep(0)  # the call is waiting for the round's batch
        batches.cancel()
        try:
            return await pending
        except asyncio.CancelledError as cancelled:
            return cancelled

    with ProcessPoolExecutor(1) as pool:
        assert isinstance(asyncio.run(call_then_close(pool)), asyncio.CancelledError)


class ShutDownPool(Executor):
    """A pool shut down before any worker took what was sent."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.cancel()
        return future


def test_a_batch_the_pool_dropped_at_shutdown_ends_its_calls_cancelled() -> None:
    batches: PoolBatches[int] = PoolBatches(half_of)
    pool = ShutDownPool()

    async def calls() -> list[int | BaseException]:
        return await asyncio.gather(
            *(batches.call(pool, number) for number in (2, 4)),
            return_exceptions=True,
        )

    # Cancelled as a stopping crawl's tasks are, not failed: no error per case on a stop.
    outcomes = asyncio.run(calls())
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)


def exit_now() -> None:
    os._exit(1)
