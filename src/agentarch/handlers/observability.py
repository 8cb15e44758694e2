"""The one place that builds Powertools' logger, tracer and metrics for every handler.

The tracer costs a cold start only what tracing needs. With tracing on (X-Ray `Active`, as Terraform
deploys) it patches botocore alone, the one library the Lambdas call out with: Powertools' default
patches every library the X-Ray SDK knows, importing each one installed (httpx, and through it rich,
requests…) into a function that never uses them. With tracing off it gets a provider that does
nothing, so the X-Ray SDK's recorder (its sampler, and outside Lambda an X-Ray client) is never built.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "agentarch")
TRACED_MODULES = ("botocore",)  # what the Lambdas call out with (boto3 is botocore underneath)

# A request that fails validation publishes no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def tracing_enabled() -> bool:
    """Powertools' own rule: on inside Lambda (not under SAM or Chalice locally) unless
    `POWERTOOLS_TRACE_DISABLED` is true."""
    if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return False
    in_lambda = bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV))
    return in_lambda and not (os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV))


class _NoSegment(BaseSegment):
    """A subsegment that records nothing."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """The tracer's provider when tracing is off: the decorators run, nothing is recorded."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


logger = Logger(service=SERVICE)
tracer = (
    Tracer(service=SERVICE, patch_modules=TRACED_MODULES)
    if tracing_enabled()
    else Tracer(service=SERVICE, disabled=True, auto_patch=False, provider=NoTracing())
)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "agentarch"))
