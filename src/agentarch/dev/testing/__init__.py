"""Test helpers for handlers built on agentarch, shipped as a pytest plugin (see `plugin.py`).

from agentarch.dev.testing import rest_api_event  # the API Gateway REST proxy event
def test_x(lambda_context, agentarch_aws, agentarch_client): ...   # the plugin's fixtures
"""

from __future__ import annotations

from agentarch.dev.lambda_events import DEFAULT_CLAIMS, LocalLambdaContext, rest_api_event
from agentarch.dev.local.ports import free_port
from agentarch.dev.testing.local_stack import TEST_USER, RunningStack, start_local_stack

__all__ = [
    "DEFAULT_CLAIMS",
    "TEST_USER",
    "LocalLambdaContext",
    "RunningStack",
    "free_port",
    "rest_api_event",
    "start_local_stack",
]
