"""The OpenAPI document is the API's real contract: schemathesis generates valid and invalid requests
from it (examples, coverage, fuzzing, stateful sequences) and sends them to the running local stack;
every answer must be documented — status, body schema, content type — and none may be a 5xx."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentarch.dev.cli.openapi import openapi_document
from tests.conftest import ALICE, RunningStack

pytestmark = pytest.mark.e2e

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def contract_stack(stack_factory: Callable[..., RunningStack]) -> RunningStack:
    return stack_factory(3, "--rate-limit", "1000000")


def run_schemathesis(
    stack: RunningStack, document: dict[str, Any], tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    return subprocess.run(
        [
            str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", str(spec),
            "--url", stack.url, "--header", f"Authorization: Bearer {stack.token(ALICE)}",
            # API Gateway answers a method a route does not declare as a route it does not know (404,
            # before any authorizer), and so does the front door: schemathesis' 405 check does not apply.
            "--checks", "all", "--exclude-checks", "unsupported_method", "--seed", "1", "--no-color", *extra,
        ],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
    )  # fmt: skip


def test_every_answer_is_documented_and_none_is_a_server_error(
    contract_stack: RunningStack, tmp_path: Path
) -> None:
    # Not createLock: a generated lock on everyone would pause the other routes mid-run (see schemathesis.toml).
    result = run_schemathesis(
        contract_stack,
        openapi_document(),
        tmp_path,
        "--max-examples",
        "80",
        "--exclude-operation-id",
        "createLock",
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout


def test_the_contract_run_fails_when_a_route_answers_an_undocumented_status(
    contract_stack: RunningStack, tmp_path: Path
) -> None:
    # Given a document that forgets that the listing refuses bad values with 422
    document = copy.deepcopy(openapi_document())
    del document["paths"]["/api/conversations"]["get"]["responses"]["422"]

    result = run_schemathesis(
        contract_stack, document, tmp_path, "--max-examples", "20",
        "--include-path", "/api/conversations", "--include-method", "GET",
    )  # fmt: skip

    assert result.returncode != 0
    assert "Undocumented status code" in result.stdout
