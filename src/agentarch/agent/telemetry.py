"""The agent's OpenTelemetry spans, as AgentCore Observability and online evaluation read them.

LangChain and LangGraph are instrumented with OpenInference (`openinference-instrumentation-langchain`,
scope `openinference.instrumentation.langchain`, one of the two scopes AgentCore Evaluations reads for
LangGraph agents): each turn is a trace whose root is the `LangGraph` chain, with a span per graph node
(`model`, `authorize`, `tools`), per model call (`LLM`, token counts) and per tool that ran (`TOOL`,
arguments and output). Each span carries the turn's `session.id` and `user.id`.

The spans go wherever the process's tracer provider sends them: in AgentCore Runtime, the AWS
Distro for OpenTelemetry's (CloudWatch, where Transaction Search and online evaluation find them);
in the local stack, a file in its state directory (`agentarch.dev.local.agent_host` sets that up);
with no provider, nowhere, at next to no cost. `AGENT_TELEMETRY=off` leaves LangChain untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


def instrument() -> None:
    """Instrument LangChain with OpenInference, once per process, on the global tracer provider."""
    from openinference.instrumentation.langchain import LangChainInstrumentor

    instrumentor = LangChainInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


@contextlib.contextmanager
def turn_attributes(session_id: str, actor_id: str | None, enabled: bool) -> Iterator[None]:
    """Every span of the turn carries its session and, when one was verified, its user."""
    if not enabled:
        yield
        return
    from openinference.instrumentation import using_attributes

    with using_attributes(session_id=session_id, user_id=actor_id or ""):
        yield
