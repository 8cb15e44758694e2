"""Terraform and the build agree: every artifact an example names is built, with the handler,
runtime and environment the example and modules assume (read statically with python-hcl2)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from agentarch.dev.packaging.registry import FUNCTIONS, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME
from tests.artifacts.conftest import REPO, Built

EXAMPLES = REPO / "terraform" / "examples"
MODULES = REPO / "terraform" / "modules"
ARTIFACT_REF = re.compile(r"(?:lambda_build/dist|artifacts_dir\})/([A-Za-z0-9_.-]+)")

pytestmark = pytest.mark.skipif(not list(EXAMPLES.glob("*/*.tf")), reason="no Terraform examples yet")


def parse(path: Path) -> dict[str, Any]:
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    document: dict[str, Any] = hcl2.loads(path.read_text(), serialization_options=options)
    return document


def example_modules() -> list[tuple[Path, str, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLES.glob("*/*.tf")):
        for block in parse(path).get("module", []):
            for name, body in block.items():
                found.append((path, name, body))
    return found


def function_call(body: dict[str, Any]) -> dict[str, Any]:
    """The `lambda_function` call an example's module call amounts to: itself, or, for a module that
    wraps one function (the example passes its `artifact_path` in), that module's own call."""
    source = str(body.get("source", ""))
    if source.endswith("/lambda_function"):
        return body
    inner = [
        call
        for path in sorted((MODULES / Path(source).name).glob("*.tf"))
        for block in parse(path).get("module", [])
        for call in block.values()
        if str(call.get("source", "")).endswith("/lambda_function")
    ]
    assert len(inner) == 1, f"{source} passes an artifact on but holds {len(inner)} lambda_function calls"
    return inner[0]


def variable_default(module: str, variable: str) -> Any:
    for block in parse(MODULES / module / "variables.tf").get("variable", []):
        if variable in block:
            return block[variable].get("default")
    raise AssertionError(f"{module} has no variable {variable}")


def test_every_artifact_path_an_example_names_is_built(built: Built) -> None:
    named = {
        (path.parent.name, match)
        for path in sorted(EXAMPLES.glob("*/*.tf"))
        for match in ARTIFACT_REF.findall(path.read_text())
    }
    assert named, "the examples name no artifact under lambda_build/dist"
    missing = sorted(
        f"{example}: {file}" for example, file in named if file not in built.manifest["artifacts"]
    )
    assert missing == []
    assert all((built.out_dir / file).is_file() for _, file in named)


def test_lambda_modules_use_the_built_handler_runtime_layer_and_environment(built: Built) -> None:
    assert variable_default("lambda_function", "runtime") == LAMBDA_RUNTIME
    assert variable_default("lambda_function", "architecture") == LAMBDA_ARCHITECTURE
    module_text = "\n".join(p.read_text() for p in (MODULES / "lambda_function").glob("*.tf"))
    checked = 0
    for path, name, body in example_modules():
        artifact = ARTIFACT_REF.findall(str(body.get("artifact_path", "")))
        entry = built.manifest["artifacts"].get(artifact[0]) if artifact else None
        if not entry or entry["kind"] != "lambda":
            continue
        checked += 1
        where = f"{path.parent.name} module {name}"
        body = function_call(body)  # a module wrapping one function (eval_sign_in): its inner call
        assert body.get("handler") == entry["handler"], where
        assert body.get("runtime", LAMBDA_RUNTIME) == entry["runtime"], where
        assert body.get("architecture", LAMBDA_ARCHITECTURE) == entry["architecture"], where
        assert body.get("powertools_layer_version") is not None, (
            f"{where}: the handler needs the Powertools layer"
        )
        environment = body.get("environment") or {}
        for key, value in entry["environment"].items():
            # set by the example, or by the lambda_function module for every function
            assert environment.get(key) == value or re.search(
                rf'{key}\s*=\s*"{re.escape(value)}"', module_text
            ), f"{where}: the function must set {key}={value} (see lambda_build/README.md)"
    assert checked, "no example deploys a Lambda zip"


def test_agent_runtime_module_defaults_match_the_agent_zip(built: Built) -> None:
    agent = built.manifest["artifacts"][FUNCTIONS["agent"].artifact]
    assert variable_default("agent_runtime", "entry_point") == agent["entry_point"]
    assert variable_default("agent_runtime", "python_runtime") == agent["runtime"]
    for path, name, body in example_modules():
        if "agent.zip" in str(body.get("artifact_path", "")):
            assert body.get("entry_point", agent["entry_point"]) == agent["entry_point"], (
                f"{path.parent.name} {name}"
            )
            assert body.get("python_runtime", agent["runtime"]) == agent["runtime"], (
                f"{path.parent.name} {name}"
            )
