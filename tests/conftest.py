"""Fixtures shared by the end-to-end and browser tests: a real local stack in a subprocess.

The unit and contract tests run handlers and the agent in this process with `STORAGE_BACKEND=sqlite`,
as the local stack's processes do: the SQLite backend is registered here, as the stack registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentarch.dev import sqlite
from agentarch.dev.testing import RunningStack, free_port, start_local_stack

sqlite.register()

__all__ = ["ALICE", "BOB", "CAROL", "RunningStack", "free_port", "start_stack"]

ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-2")
CAROL = ("carol", "carol-password-3")  # may use the weather tool and open tickets (default tool policy)


def start_stack(tmp: Path, pattern: int, *extra: str, state_dir: Path | None = None) -> RunningStack:
    """`agentarch dev` with three users: alice (users, admins, audit-admins: she may read the audit
    trail), bob (no group), carol (weather, support).

    Daily quotas are out of the way (a session's tests send far more than a user's day) unless a
    test sets its own.
    """
    users = ((*ALICE, "users,admins,audit-admins"), (*BOB, ""), (*CAROL, "users,weather,support"))
    if "--daily-requests" not in extra and "--daily-tokens" not in extra:
        extra = (*extra, "--daily-requests", "1000000", "--daily-tokens", "1000000000")
    return start_local_stack(tmp, pattern, *extra, users=users, state_dir=state_dir)


@pytest.fixture(scope="session")
def stack_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningStack]]:
    """Start stacks on demand; every one is stopped at the end of the session."""
    started: list[RunningStack] = []

    def factory(pattern: int, *extra: str, state_dir: Path | None = None) -> RunningStack:
        stack = start_stack(
            tmp_path_factory.mktemp(f"stack-p{pattern}"), pattern, *extra, state_dir=state_dir
        )
        started.append(stack)
        return stack

    yield factory
    for stack in started:
        stack.stop()


@pytest.fixture(scope="session")
def secure_stack(stack_factory: Callable[..., RunningStack]) -> RunningStack:
    """Pattern 2, the recommended start, with a rate limit high enough for the suite."""
    return stack_factory(2, "--rate-limit", "5000")


@pytest.fixture(scope="session")
def full_stack(stack_factory: Callable[..., RunningStack]) -> RunningStack:
    """Pattern 3 (conversations, history), with a rate limit high enough for the suite."""
    return stack_factory(3, "--rate-limit", "5000")
