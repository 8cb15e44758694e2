"""Bad input fails with a clear message and leaves no half-written artifact."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from agentarch.dev.cli.build import main
from agentarch.dev.packaging.builder import BuildError, build
from agentarch.dev.packaging.imports import import_graph
from agentarch.dev.packaging.registry import FUNCTIONS
from tests.artifacts.conftest import LAMBDA_SPECS

FAKE = "agentarch-fake-native"


def test_unknown_function_exits_2_names_the_known_ones_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dist"
    assert main(["chat", "no-such-function", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert (
        "'no-such-function'" in error
        and "chat, conversations, audit, notary, evaluator, eval_scopes, agent" in error
    )
    assert not out.exists()


def fake_x86_only_wheel(directory: Path) -> Path:
    """A wheel that exists, but only for linux x86_64: what a dependency without an arm64 build looks like."""
    directory.mkdir(parents=True, exist_ok=True)
    module = FAKE.replace("-", "_")
    path = directory / f"{module}-1.0-cp313-cp313-manylinux2014_x86_64.whl"
    info = f"{module}-1.0.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{module}/__init__.py", "")
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {FAKE}\nVersion: 1.0\n")
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp313-cp313-manylinux2014_x86_64\n",
        )
        wheel.writestr(f"{info}/RECORD", "")
    return path


@pytest.mark.skipif(not LAMBDA_SPECS, reason="no Lambda handler module exists yet")
def test_dependency_without_an_aarch64_wheel_fails_clearly_and_leaves_the_output_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Lambda that also needs a package published only for x86_64 (pip sees no index, only
    # a local folder holding that wheel), and an output directory with an earlier build in it
    wheels = fake_x86_only_wheel(tmp_path / "wheels").parent
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    spec = replace(LAMBDA_SPECS[0], extra_requirements=(f"{FAKE}==1.0",))
    out = tmp_path / "dist"
    out.mkdir()
    (out / spec.artifact).write_bytes(b"earlier build")

    # When it is built
    with pytest.raises(BuildError) as failure:
        build([spec.name], out, tmp_path / "cache", registry={spec.name: spec}, log=lambda line: None)

    # Then the message names the package and the platform, and nothing in the output changed
    message = str(failure.value)
    assert FAKE in message and "aarch64" in message and "3.13" in message
    assert sorted(p.name for p in out.iterdir()) == [spec.artifact]
    assert (out / spec.artifact).read_bytes() == b"earlier build"


def test_a_lambda_whose_imports_reach_the_agent_is_refused(tmp_path: Path) -> None:
    # Given a Lambda spec pointed at a module that imports the agent package
    rogue = replace(FUNCTIONS["chat"], name="rogue", entry_module="agentarch.agent.app", artifact="rogue.zip")
    # Then the build refuses, naming the import chain, and writes nothing
    with pytest.raises(BuildError, match=r"agentarch\.agent"):
        build(["rogue"], tmp_path / "dist", registry={"rogue": rogue}, log=lambda line: None)
    assert not (tmp_path / "dist").exists()


def test_import_graph_follows_deferred_imports_but_not_type_checking_ones(tmp_path: Path) -> None:
    # Given a small agentarch tree
    package = tmp_path / "agentarch"
    for sub in ("handlers", "services"):
        (package / sub).mkdir(parents=True)
        (package / sub / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "handlers" / "x.py").write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import httpx\n"
        "from agentarch.services import a\n"
        "from . import helper\n"
        "if TYPE_CHECKING:\n    from agentarch.services import typing_only\n"
        "def later():\n    from agentarch.services.b import thing\n    import yaml\n"
    )
    (package / "handlers" / "helper.py").write_text("import json\n")
    for name in ("a", "b", "typing_only"):
        (package / "services" / f"{name}.py").write_text("")

    # When its graph is read
    graph = import_graph("agentarch.handlers.x", tmp_path)

    # Then deferred and relative imports count, TYPE_CHECKING ones do not, stdlib is not third-party
    assert set(graph.modules) == {
        "agentarch", "agentarch.handlers", "agentarch.handlers.x", "agentarch.handlers.helper",
        "agentarch.services", "agentarch.services.a", "agentarch.services.b",
    }  # fmt: skip
    assert set(graph.external) == {"httpx", "yaml"}
    assert graph.chain("agentarch.services.b") == ["agentarch.handlers.x", "agentarch.services.b"]
