"""The pytest plugin (entry point `agentarch`, loaded wherever agentarch is installed).

Fixtures for teams testing their own handlers against agentarch's architecture:

- `lambda_context`: the context object a Lambda handler receives.
- `aws_credentials`: fake AWS credentials in the environment, so nothing reaches a real account.
- `agentarch_aws`: the AWS adapters on moto (DynamoDB conversation index, AgentCore Memory events),
  with `STORAGE_BACKEND`, `CONVERSATIONS_TABLE`, `MEMORY_ID` and `AWS_REGION` set as Terraform sets
  them, so a handler that builds its storage from the environment finds them. Needs moto.
- `agentarch_stack`: `agentarch dev` (pattern 3, offline model) on a free port, once per session.
- `agentarch_client`: an `httpx.Client` for that stack's API (`/api`), signed in as `TEST_USER`.

`rest_api_event()` builds the API Gateway REST proxy event; import it from `agentarch.dev.testing`.
Turn the plugin off with `-p no:agentarch`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from agentarch.config import Env
from agentarch.dev.lambda_events import LocalLambdaContext
from agentarch.dev.testing.local_stack import RunningStack, start_local_stack

if TYPE_CHECKING:
    from agentarch.dev.testing.aws import AwsStorage


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    """The context object a Lambda handler receives, with 28 s left to run."""
    return LocalLambdaContext()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake AWS credentials and region, and no profile: a slip reaches no real account."""
    from agentarch.dev.testing.aws import FAKE_CREDENTIALS

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def agentarch_aws(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStorage]:
    """The AWS storage adapters on moto, and the environment a Lambda reads to find them."""
    from agentarch.dev.testing.aws import moto_storage

    with moto_storage() as storage:
        monkeypatch.setenv(Env.STORAGE_BACKEND, "aws")
        monkeypatch.setenv(Env.CONVERSATIONS_TABLE, storage.table_name)
        monkeypatch.setenv(Env.MEMORY_ID, storage.memory_id)
        monkeypatch.setenv(Env.AWS_REGION, storage.region)
        yield storage


@pytest.fixture(scope="session")
def agentarch_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The whole architecture on loopback (pattern 3, offline model), started once per session."""
    stack = start_local_stack(tmp_path_factory.mktemp("agentarch-stack"), 3, "--rate-limit", "100000")
    yield stack
    stack.stop()


@pytest.fixture
def agentarch_client(agentarch_stack: RunningStack) -> Iterator[httpx.Client]:
    """A client for the local stack's API, signed in as `TEST_USER` (base URL: `/api`)."""
    with agentarch_stack.client() as client:
        yield client
