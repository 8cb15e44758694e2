"""Fixtures shared by the end-to-end and browser tests: a real local stack in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-2")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningStack:
    """A local stack started by `agentarch dev` for a test."""

    url: str
    state_dir: Path
    process: subprocess.Popen[str]
    log: Path

    def config(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/local/config").json()  # type: ignore[no-any-return]

    def login(self, user: tuple[str, str] = ALICE) -> dict[str, Any]:
        answer = httpx.post(f"{self.url}/local-auth/login", json={"username": user[0], "password": user[1]})
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]

    def token(self, user: tuple[str, str] = ALICE) -> str:
        return str(self.login(user)["access_token"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_stack(tmp: Path, pattern: int, *extra: str, state_dir: Path | None = None) -> RunningStack:
    """Start `agentarch dev` and wait until its front door answers."""
    port = free_port()
    state = state_dir or tmp / f"state-p{pattern}"
    log = tmp / f"dev-p{pattern}-{port}.log"
    args = [
        sys.executable, "-m", "agentarch.cli", "dev", "--no-browser", "--pattern", str(pattern),
        "--port", str(port), "--state-dir", str(state),
        "--user", f"{ALICE[0]}:{ALICE[1]}:users,admins", "--user", f"{BOB[0]}:{BOB[1]}", *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("MODEL_PROVIDER", "BEDROCK_MODEL_ID")}
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    stack = RunningStack(f"http://127.0.0.1:{port}", state, process, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"agentarch dev exited early:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{stack.url}/local/health", timeout=1).status_code == 200:
                return stack
        time.sleep(0.3)
    stack.stop()
    raise RuntimeError(f"agentarch dev did not become ready:\n{log.read_text()}")


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
