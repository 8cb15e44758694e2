"""Execution environments: one process per environment, one request at a time per process.

This is how Lambda (and, per session, AgentCore Runtime) scales: an environment handles **one
event at a time**; concurrency comes from more environments, each started on demand with a cold
start, up to a cap (a Lambda function's reserved concurrency). An environment that fails or
times out is thrown away, and one idle for a while is reaped. Both the local Lambda service and
the local runtime endpoint keep their workers in an `EnvironmentPool`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import itertools
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


def die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child between fork and exec
    """`preexec_fn` for child processes: be killed when the parent dies, however it dies (Linux).

    SIGKILL, not SIGTERM: a child busy shutting down must not outlive its parent. A parent that died
    between the fork and this call would never signal: the child checks and goes at once.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def preexec() -> Callable[[], None] | None:
    """The `preexec_fn` that ties a child started now to this process's life (None off Linux)."""
    return functools.partial(die_with_parent, os.getpid()) if sys.platform == "linux" else None


class Environment(Protocol):
    """A started worker process that serves one request at a time."""

    pid: int

    @property
    def alive(self) -> bool: ...

    async def close(self) -> None: ...


EnvT = TypeVar("EnvT", bound=Environment)


class AtCapacity(Exception):
    """Every environment is busy and no more may be started."""


@dataclass
class PoolStats:
    """What health reports about a pool."""

    environments: int
    busy: int
    cold_starts: int
    limit: int
    pids: list[int] = field(default_factory=list)


class EnvironmentPool(Generic[EnvT]):
    """Idle environments are reused, newest first; new ones are started up to `limit`."""

    def __init__(
        self,
        start: Callable[[int], Awaitable[EnvT]],
        limit: int,
        idle_seconds: float = 300.0,
    ) -> None:
        self._start = start
        self.limit = limit
        self._idle_seconds = idle_seconds
        self._idle: list[tuple[EnvT, float]] = []
        self._busy: set[int] = set()
        self._all: dict[int, EnvT] = {}
        self._starting = 0
        self._numbers = itertools.count(1)
        self._freed = asyncio.Condition()
        self.cold_starts = 0

    def stats(self) -> PoolStats:
        """A snapshot for health reports."""
        return PoolStats(
            environments=len(self._all),
            busy=len(self._busy) + self._starting,
            cold_starts=self.cold_starts,
            limit=self.limit,
            pids=sorted(env.pid for env in self._all.values()),
        )

    async def acquire(self, wait_seconds: float = 0.0) -> EnvT:
        """An idle environment, or a new one; after `wait_seconds` at capacity, `AtCapacity`."""
        deadline = time.monotonic() + wait_seconds
        while True:
            while self._idle:
                env, _ = self._idle.pop()
                if env.alive:
                    self._busy.add(id(env))
                    return env
                await self._discard(env)
            if len(self._all) + self._starting < self.limit:
                return await self._cold_start()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AtCapacity
            async with self._freed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), remaining)

    async def release(self, env: EnvT, reusable: bool = True) -> None:
        """Give an environment back; a failed or timed-out one is thrown away."""
        self._busy.discard(id(env))
        if reusable and env.alive:
            self._idle.append((env, time.monotonic()))
        else:
            await self._discard(env)
        async with self._freed:
            self._freed.notify()

    async def reap_idle(self) -> None:
        """Stop environments idle for longer than `idle_seconds`, and dead ones."""
        now = time.monotonic()
        keep = []
        for env, since in self._idle:
            if env.alive and now - since < self._idle_seconds:
                keep.append((env, since))
            else:
                await self._discard(env)
        self._idle = keep

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While the service runs: reap idle environments now and then; stop them all at the end."""

        async def reaper() -> None:
            while True:
                await asyncio.sleep(min(self._idle_seconds, 10.0))
                await self.reap_idle()

        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()
            await self.close()

    async def close(self) -> None:
        """Stop every environment."""
        for env in list(self._all.values()):
            await env.close()
        self._all.clear()
        self._idle.clear()

    async def _cold_start(self) -> EnvT:
        self._starting += 1
        try:
            env = await self._start(next(self._numbers))
        except BaseException:
            self._starting -= 1
            async with self._freed:  # the place it held is free again for whoever waits
                self._freed.notify()
            raise
        self._starting -= 1
        self.cold_starts += 1
        self._all[id(env)] = env
        self._busy.add(id(env))
        return env

    async def _discard(self, env: EnvT) -> None:
        self._all.pop(id(env), None)
        self._busy.discard(id(env))
        await env.close()
        async with self._freed:
            self._freed.notify()
