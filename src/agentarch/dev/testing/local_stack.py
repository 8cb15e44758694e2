"""`agentarch dev` started for a test: the whole architecture on loopback, on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agentarch.dev.local.ports import free_port

TEST_USER = ("tester", "tester-password-1")
STARTUP_SECONDS = 90.0


@dataclass
class RunningStack:
    """A local stack started by `agentarch dev` for a test."""

    url: str
    state_dir: Path
    process: subprocess.Popen[str]
    log: Path
    user: tuple[str, str] = TEST_USER  # who `login`, `token` and `client` sign in as by default

    def config(self) -> dict[str, Any]:
        """What the page reads: the pattern, the API's and the runtime's URLs."""
        answer: dict[str, Any] = httpx.get(f"{self.url}/local/config").json()
        return answer

    def login(self, user: tuple[str, str] | None = None) -> dict[str, Any]:
        """Sign in as a user of the local identity issuer (the stack's first user by default); returns its tokens."""
        user = user or self.user
        answer = httpx.post(f"{self.url}/local-auth/login", json={"username": user[0], "password": user[1]})
        answer.raise_for_status()
        tokens: dict[str, Any] = answer.json()
        return tokens

    def token(self, user: tuple[str, str] | None = None) -> str:
        """A fresh access token (scope `agentarch-api/chat`) for the user."""
        return str(self.login(user)["access_token"])

    def client(self, user: tuple[str, str] | None = None, timeout: float = 60.0) -> httpx.Client:
        """An HTTP client for the API (`/api`), signed in as the user."""
        return httpx.Client(
            base_url=f"{self.url}/api",
            headers={"Authorization": f"Bearer {self.token(user)}"},
            timeout=timeout,
        )

    def stop(self) -> None:
        """Ctrl-C, as a person stops it; a kill if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_local_stack(
    workdir: Path,
    pattern: int = 3,
    *extra_args: str,
    users: Sequence[tuple[str, str, str]] = ((*TEST_USER, "users"),),
    state_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> RunningStack:
    """Start `agentarch dev` on a free port and wait until its front door answers.

    `users` are (name, password, comma-separated groups); `extra_args` go to `agentarch dev` as they
    are (e.g. `"--rate-limit", "5000"`); `env` is added to its environment. Its output goes to a log file under `workdir`.
    """
    if not users:
        raise ValueError("start_local_stack needs at least one user to sign in as")
    port = free_port()
    state = state_dir or workdir / f"state-p{pattern}"
    log = workdir / f"dev-p{pattern}-{port}.log"
    user_args = [arg for name, password, groups in users for arg in ("--user", f"{name}:{password}:{groups}")]
    args = [
        sys.executable, "-m", "agentarch.dev.cli", "dev", "--no-browser", "--pattern", str(pattern),
        "--port", str(port), "--state-dir", str(state), *user_args, *extra_args,
    ]  # fmt: skip
    # The offline model, whatever the developer's shell says.
    environment = {k: v for k, v in os.environ.items() if k not in ("MODEL_PROVIDER", "BEDROCK_MODEL_ID")}
    environment.update(env or {})
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True, env=environment)  # noqa: S603
    stack = RunningStack(f"http://127.0.0.1:{port}", state, process, log, user=(users[0][0], users[0][1]))
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"agentarch dev exited early:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{stack.url}/local/health", timeout=1).status_code == 200:
                return stack
        time.sleep(0.3)
    stack.stop()
    raise RuntimeError(f"agentarch dev did not become ready:\n{log.read_text()}")
