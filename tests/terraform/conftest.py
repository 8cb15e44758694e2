"""Shared helpers for the static Terraform tests: the repository root and parsed configurations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agentarch.dev.lint.hcl import TfModule, clear_cache, load_module, plain

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "terraform" / "examples"
MODULES = ROOT / "terraform" / "modules"
EXAMPLE_NAMES = ("0-direct", "1-passthrough", "2-secure", "3-full")  # the four patterns
# Root configurations beside the patterns: the one-time account step, and a platform team's reuse.
OTHER_ROOTS = ("account-logging", "reuse")
_LOCAL = re.compile(r"^\$\{local\.(\w+)\}$")


def example(name: str) -> TfModule:
    """A parsed example root configuration."""
    return load_module(EXAMPLES / name)


def module_dir(name: str) -> TfModule:
    """A parsed module."""
    return load_module(MODULES / name)


def call_args(config: TfModule, call: str) -> dict[str, Any]:
    """Arguments of a module call, markers stripped, `local.x` references replaced by their value."""
    return {k: resolve(config, v) for k, v in plain(config.module_calls[call].body).items()}


def resolve(config: TfModule, value: Any) -> Any:
    """Replace whole-value `${local.x}` references (recursively) with the local's literal value."""
    if isinstance(value, str):
        match = _LOCAL.match(value)
        if match and match.group(1) in config.locals:
            return resolve(config, plain(config.locals[match.group(1)][0]))
        return value
    if isinstance(value, list):
        return [resolve(config, v) for v in value]
    if isinstance(value, dict):
        return {k: resolve(config, v) for k, v in value.items()}
    return value


@pytest.fixture(autouse=True)
def _fresh_parse() -> None:
    clear_cache()
