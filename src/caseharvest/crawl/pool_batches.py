"""Calls to a process pool from the crawl's event loop, sent in batches.

A call per message had the pool's threads in the crawl process (the one that sends work,
the one that takes results back) take the GIL from the reactor for every call: 7.5 s of CPU
in a 20,000-case crawl over an archive. Calls made while the event loop runs one round go to
a worker in one message, up to ``MAX_BATCH``, and come back in one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Generic, TypeVar

# Calls sent to a worker in one message, at most.
MAX_BATCH = 8

Result = TypeVar("Result")


def run_batch(function: Callable[..., Any], calls: list[tuple[Any, ...]]) -> list[tuple[bool, Any]]:
    """Runs in a worker: *function* on each call's arguments; (True, result) or (False, error)."""
    outcomes: list[tuple[bool, Any]] = []
    for arguments in calls:
        try:
            outcomes.append((True, function(*arguments)))
        except Exception as exc:  # that call's own failure, carried back to its caller
            outcomes.append((False, exc))
    return outcomes


_Waiting = tuple[tuple[Any, ...], "asyncio.Future[Any]"]


class PoolBatches(Generic[Result]):
    """Calls of one top-level *function* in a process pool, each awaited on its own."""

    def __init__(self, function: Callable[..., Result]) -> None:
        self.function = function
        self._waiting: list[_Waiting] = []
        self._send_soon: asyncio.Handle | None = None
        self._pool: Executor | None = None

    async def call(self, pool: Executor, *arguments: Any) -> Result:
        """*function(\\*arguments)* in *pool*; raises what it raised, or the pool's failure."""
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[Any] = loop.create_future()
        if self._pool is not pool:
            self.send()  # (a pool started again: what waited goes to the old one)
            self._pool = pool
        self._waiting.append((arguments, outcome))
        if len(self._waiting) >= MAX_BATCH:
            self.send()
        elif self._send_soon is None:
            self._send_soon = loop.call_soon(self.send)
        result: Result = await outcome
        return result

    def send(self) -> None:
        """Hand the waiting calls to a worker now, in one batch."""
        if self._send_soon is not None:
            self._send_soon.cancel()
            self._send_soon = None
        batch, self._waiting = self._waiting, []
        if not batch or self._pool is None:
            return
        try:
            future = self._pool.submit(run_batch, self.function, [args for args, _ in batch])
        except Exception as exc:  # a broken or closed pool: each call fails with it
            _settle(batch, None, exc)
            return
        loop = asyncio.get_running_loop()

        def deliver_in_loop(done: Future[list[tuple[bool, Any]]]) -> None:
            if not loop.is_closed():  # (a pool shut down after the crawl's loop)
                loop.call_soon_threadsafe(_deliver, batch, done)

        future.add_done_callback(deliver_in_loop)

    def cancel(self) -> None:
        """Calls not sent yet end cancelled (the pool is closing)."""
        if self._send_soon is not None:
            self._send_soon.cancel()
            self._send_soon = None
        waiting, self._waiting = self._waiting, []
        for _, outcome in waiting:
            outcome.cancel()


def _deliver(batch: list[_Waiting], done: Future[list[tuple[bool, Any]]]) -> None:
    """Give each call of a finished batch its outcome (or the batch's failure)."""
    if done.cancelled():  # the pool was shut down before a worker took the batch
        for _, outcome in batch:
            outcome.cancel()
        return
    failure = done.exception()
    _settle(batch, None if failure is not None else done.result(), failure)


def _settle(
    batch: list[_Waiting],
    outcomes: list[tuple[bool, Any]] | None,
    failure: BaseException | None,
) -> None:
    for index, (_, outcome) in enumerate(batch):
        if outcome.done():  # its caller was cancelled meanwhile
            continue
        if outcomes is None:
            outcome.set_exception(failure or RuntimeError("the batch came back empty"))
            continue
        succeeded, value = outcomes[index]
        if succeeded:
            outcome.set_result(value)
        else:
            outcome.set_exception(value)
