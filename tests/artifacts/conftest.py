"""Fixtures for the build tests: one build of every artifact per session, and the Lambda's neighbours.

The agent zip needs PyPI the first time (linux aarch64 wheels); after that the wheel cache in
lambda_build/.cache makes every build offline, so the whole folder runs in well under a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from agentarch.dev.packaging.builder import available, build, read_manifest
from agentarch.dev.packaging.dependencies import closure
from agentarch.dev.packaging.registry import FUNCTIONS, FunctionSpec

REPO = Path(__file__).resolve().parents[2]
PROBE_MARK = "PROBE-RESULT "

# What the Lambda python3.13 runtime itself carries: boto3 and its dependencies.
LAMBDA_RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
# What the Powertools layer's Dockerfile deletes after `pip install aws-lambda-powertools[all]`.
LAYER_DROPS = ("boto", "s3transfer", "python-dateutil", "urllib3", "six", "jmespath")

LAMBDA_SPECS = [spec for spec in FUNCTIONS.values() if spec.kind == "lambda" and available(spec)]
AGENT_SPEC = FUNCTIONS["agent"]


@dataclass
class Built:
    """The output of one `agentarch build` of everything that exists."""

    out_dir: Path
    manifest: dict[str, Any]
    log: list[str] = field(default_factory=list)

    def artifact(self, spec: FunctionSpec) -> Path:
        return self.out_dir / spec.artifact


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Every artifact, built once for the session with the project's wheel cache."""
    out = tmp_path_factory.mktemp("dist")
    log: list[str] = []
    build((), out, log=log.append)
    return Built(out, read_manifest(out), log)


def unpack(archive: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(into)
    return into


def link_distributions(names: Iterable[str], dest: Path) -> list[str]:
    """A directory holding (symlinks to) the build venv's copies of the named distributions."""
    dest.mkdir(parents=True, exist_ok=True)
    linked: list[str] = []
    for name in sorted(set(names)):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        tops = {Path(str(file)).parts[0] for file in dist.files or []}
        for top in sorted(tops):
            if top in ("..", "bin", "__pycache__") or top.endswith(".pth"):
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (dest / top).exists():
                (dest / top).symlink_to(source)
        linked.append(f"{name}=={dist.version}")
    return linked


@dataclass
class LambdaNeighbours:
    """What sits beside a Lambda zip at run time: the Powertools layer and the runtime's boto3."""

    layer: Path
    runtime_sdk: Path
    layer_distributions: list[str]


@pytest.fixture(scope="session")
def lambda_neighbours(tmp_path_factory: pytest.TempPathFactory) -> LambdaNeighbours:
    """The layer's packages for the host platform, taken from this venv (same as `pip install
    aws-lambda-powertools[all]` minus what the layer's Dockerfile deletes), and boto3 likewise."""
    root = tmp_path_factory.mktemp("lambda-neighbours")
    layer_names = {
        name
        for name in closure(["aws-lambda-powertools[all]"])
        if not any(name.startswith(dropped) for dropped in LAYER_DROPS)
    }
    layer = link_distributions(layer_names, root / "opt-python")
    link_distributions(LAMBDA_RUNTIME_SDK, root / "var-runtime")
    return LambdaNeighbours(root / "opt-python", root / "var-runtime", layer)


def run_probe(script: str, config: dict[str, Any], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run `script` in a fresh interpreter with no site-packages (-I -S) and return what it reports."""
    path = cwd / "probe.py"
    path.write_text(script)
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8"}
    process = subprocess.run(
        [sys.executable, "-I", "-S", str(path), json.dumps(config)],
        capture_output=True,
        text=True,
        env={**base_env, **env},
        cwd=cwd,
        timeout=180,
        check=False,
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith(PROBE_MARK)]
    assert process.returncode == 0 and lines, (
        f"probe failed ({process.returncode}):\nstdout:\n{process.stdout[-4000:]}\nstderr:\n{process.stderr[-4000:]}"
    )
    result: dict[str, Any] = json.loads(lines[-1][len(PROBE_MARK) :])
    return result
