"""Ctrl-C stops `agentarch dev` quietly, whether it is still starting or already serving."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.e2e


def start_in_own_terminal_group(state_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """`agentarch dev` in a process group of its own, as a terminal runs it (Ctrl-C reaches every process)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "agentarch.dev.cli", "dev", "--no-browser", "--port", str(port),
         "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def press_ctrl_c(process: subprocess.Popen[str]) -> str:
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    return output


def test_ctrl_c_once_the_stack_serves_prints_no_traceback(tmp_path: Path) -> None:
    # Given a stack that answers
    process, url = start_in_own_terminal_group(tmp_path / "state")
    deadline = time.monotonic() + 90
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/local/health", timeout=1).status_code == 200:
                break
        time.sleep(0.3)
    # When the person presses Ctrl-C
    output = press_ctrl_c(process)
    # Then every process stops, and the terminal shows no traceback
    assert "Press Ctrl-C to stop every process." in output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    assert process.returncode == 130


def test_ctrl_c_while_the_stack_starts_prints_no_traceback(tmp_path: Path) -> None:
    process, _ = start_in_own_terminal_group(tmp_path / "state")
    for _ in range(100):  # until it says it is starting, before it serves
        time.sleep(0.1)
        if (tmp_path / "state" / "logs").exists():
            break

    output = press_ctrl_c(process)

    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    assert process.returncode in (130, -signal.SIGINT)  # stopped by Ctrl-C: a shell shows both as 130


def stack_processes(mark: str) -> list[int]:
    """Every process that carries this stack's mark in its environment (children inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            environ = (entry / "environ").read_bytes()
            if f"DEV_STACK_MARK={mark}".encode() in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def start_paused(state_dir: Path, mark: str, phase: str) -> subprocess.Popen[str]:
    """`agentarch dev` held at a start-up phase, in a process group of its own as a terminal runs it."""
    env = {**os.environ, "DEV_STACK_MARK": mark, "AGENTARCH_DEV_PAUSE_AT": phase}
    process = subprocess.Popen(
        [sys.executable, "-m", "agentarch.dev.cli", "dev", "--no-browser", "--port", str(free_port()),
         "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:  # held there until stopped
        if line.startswith(f"paused at {phase}"):
            return process
    raise AssertionError(f"the stack ended before reaching {phase}")


STOPS = {
    "Ctrl-C": lambda process: os.killpg(process.pid, signal.SIGINT),
    "SIGTERM to the stack alone": lambda process: process.send_signal(signal.SIGTERM),
    "the stack killed (SIGKILL)": lambda process: process.kill(),
}


@pytest.mark.parametrize("stop", sorted(STOPS))
@pytest.mark.parametrize("phase", ["spawned:runtime-endpoint", "spawned:lambda-chat", "healthy"])
def test_however_and_whenever_the_stack_stops_no_process_of_it_remains(
    tmp_path: Path, phase: str, stop: str
) -> None:
    # Given a stack held at a phase of its start-up, with some of its processes started
    mark = os.urandom(8).hex()
    process = start_paused(tmp_path / "state", mark, phase)
    assert stack_processes(mark), "the stack's processes carry the mark"

    # When it is stopped that way
    STOPS[stop](process)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=30)

    # Then within a few seconds not one of the processes it started is left
    deadline = time.monotonic() + 15
    while stack_processes(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stack_processes(mark) == []
