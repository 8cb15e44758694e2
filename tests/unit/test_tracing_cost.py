"""The chat Lambda's tracer costs a cold start only what tracing needs (see `handlers/observability.py`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, sys
import agentarch.handlers.chat as chat
from aws_lambda_powertools import Tracer
print(json.dumps({
    "xray_recorder_built": "aws_xray_sdk.core" in sys.modules,
    "httpx_imported": "httpx" in sys.modules,
    "botocore_patched": "aws_xray_sdk.ext.botocore.patch" in sys.modules,
    "tracer_disabled": chat.tracer.disabled,
}))
"""


def imported_with(env: dict[str, str]) -> dict[str, bool]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_TASK_ROOT"))}
    base |= {"AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "chat"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=base | env, capture_output=True, text=True, check=True, timeout=60
    )
    answer: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.parametrize(
    "env",
    [{"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"}, {}],
    ids=["off", "outside-lambda"],
)
def test_tracing_off_never_builds_the_xray_recorder(env: dict[str, str]) -> None:
    assert imported_with(env) == {
        "xray_recorder_built": False,
        "httpx_imported": False,
        "botocore_patched": False,
        "tracer_disabled": True,
    }


def test_tracing_as_deployed_patches_botocore_alone(tmp_path) -> None:
    answer = imported_with({"LAMBDA_TASK_ROOT": str(tmp_path)})

    assert answer == {
        "xray_recorder_built": True,
        "httpx_imported": False,  # Powertools' default would patch (so import) every library X-Ray knows
        "botocore_patched": True,
        "tracer_disabled": False,
    }
