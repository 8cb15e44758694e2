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
