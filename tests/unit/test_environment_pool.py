"""The pool of execution environments: reuse, the cap, waiting for a free one, failed cold starts."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from agentarch.dev.local.environments import AtCapacity, EnvironmentPool


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run on a thread of its own: earlier tests (Playwright's sync API) may hold this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, scenario()).result()


class Worker:
    pids = itertools.count(100)

    def __init__(self) -> None:
        self.pid = next(self.pids)
        self.alive = True

    async def close(self) -> None:
        self.alive = False


def test_an_idle_environment_is_reused_and_the_cap_throttles() -> None:
    async def scenario() -> None:
        started: list[Worker] = []

        async def start(_: int) -> Worker:
            started.append(Worker())
            return started[-1]

        pool: EnvironmentPool[Worker] = EnvironmentPool(start, limit=2)
        first = await pool.acquire()
        await pool.release(first)
        again = await pool.acquire()
        second = await pool.acquire()

        assert again is first and second is not first and len(started) == 2
        with pytest.raises(AtCapacity):
            await pool.acquire()
        assert pool.stats().busy == 2 and pool.stats().cold_starts == 2

    run(scenario)


def test_a_dead_or_failed_environment_is_replaced_and_a_waiter_gets_the_freed_place() -> None:
    async def scenario() -> None:
        outcomes = iter([Worker(), RuntimeError("no start"), Worker()])

        async def start(_: int) -> Worker:
            outcome = next(outcomes)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        pool: EnvironmentPool[Worker] = EnvironmentPool(start, limit=1)
        only = await pool.acquire()
        only.alive = False  # it died while busy
        await pool.release(only)
        with pytest.raises(RuntimeError):
            await pool.acquire()  # the cold start of its replacement fails
        replacement = await asyncio.wait_for(pool.acquire(wait_seconds=5), 5)

        assert replacement is not only and replacement.alive
        assert pool.stats().environments == 1

    run(scenario)
