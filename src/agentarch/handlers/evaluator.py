"""Evaluator Lambda: agentarch's trajectory checks as an AgentCore Evaluations code-based evaluator.

AgentCore online evaluation samples the runtime's sessions from CloudWatch (the agent's
OpenInference spans) and invokes this function with them (`evaluationInput.sessionSpans`); it
answers a label (`PASS`/`FAIL`), a value (the share of checks that held) and an explanation naming
each failed check. The checks are the ones `agentarch eval` runs offline and over recorded turns
(`services/evaluation.py`): a consequential call only once approved, no refused call asked for again
in the turn, tokens and latency within the budget; the foreign-data check needs other users' words,
which one session's spans do not hold, so it cannot fail here.

The event and answer follow the code-based evaluator contract (schema version 1.0); they are parsed
here rather than with the bedrock-agentcore SDK's decorator, whose import brings the runtime
client (boto3, starlette: about 0.35 s) into a function that needs neither.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentarch.config import EvaluatorSettings, cached
from agentarch.handlers.observability import logger
from agentarch.services.evaluation import (
    Budget,
    TurnTrace,
    consequential_tools,
    traces_from_spans,
    trajectory_checks,
)


class EvaluationTarget(BaseModel):
    """The traces (or spans) the evaluation is about, within the session's spans."""

    model_config = ConfigDict(extra="allow")

    trace_ids: list[str] = Field(default_factory=list, alias="traceIds")
    span_ids: list[str] = Field(default_factory=list, alias="spanIds")


class EvaluatorEvent(BaseModel):
    """What AgentCore Evaluations sends a code-based evaluator (the contract's camelCase names)."""

    model_config = ConfigDict(extra="allow")

    schema_version: str = Field("1.0", alias="schemaVersion")
    evaluator_id: str | None = Field(None, alias="evaluatorId")
    evaluation_level: Literal["SESSION", "TRACE", "TOOL_CALL"] = Field(alias="evaluationLevel")
    evaluation_input: dict[str, Any] = Field(alias="evaluationInput")
    evaluation_target: EvaluationTarget | None = Field(None, alias="evaluationTarget")


def evaluate(event: EvaluatorEvent, budget: Budget, consequential: tuple[str, ...]) -> dict[str, Any]:
    """The verdict on the session (or the one trace targeted), in the contract's answer shape."""
    if event.evaluation_level == "TOOL_CALL":
        return {
            "errorCode": "UNSUPPORTED_LEVEL",
            "errorMessage": "agentarch's checks read whole turns (TRACE or SESSION)",
        }
    spans = event.evaluation_input.get("sessionSpans") or []
    traces: list[TurnTrace] = traces_from_spans(spans)
    wanted = {
        t.removeprefix("0x") for t in (event.evaluation_target.trace_ids if event.evaluation_target else [])
    }
    if event.evaluation_level == "TRACE" and wanted:
        traces = [trace for trace in traces if trace.trace_id in wanted]
    if not traces:
        return {"errorCode": "NO_TURNS", "errorMessage": "no agent turn (LangGraph root span) in the spans"}
    tools = consequential_tools(traces, consequential)
    results = [
        r
        for trace in traces
        for r in trajectory_checks(trace, consequential=tools, budget=budget)
        if not r.skipped
    ]
    failed = [r for r in results if not r.passed]
    explanation = "; ".join(f"{r.check}: expected {r.expected}, got {r.got}" for r in failed) or (
        f"{len(results)} checks held over {len(traces)} turn(s)"
    )
    return {
        "label": "FAIL" if failed else "PASS",
        "value": round((len(results) - len(failed)) / len(results), 4) if results else 1.0,
        "explanation": explanation[:4000],
    }


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point: an AgentCore Evaluations code-based evaluator."""
    try:
        parsed = EvaluatorEvent.model_validate(event)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "event" for e in exc.errors())
        return {"errorCode": "VALIDATION_FAILED", "errorMessage": f"not an evaluator event: {fields}"}
    settings = cached(EvaluatorSettings)
    verdict = evaluate(
        parsed,
        Budget(tokens_per_turn=settings.tokens_per_turn, latency_ms_per_turn=settings.latency_ms_per_turn),
        settings.consequential_tools,
    )
    logger.info("session evaluated", extra={"label": verdict.get("label"), "error": verdict.get("errorCode")})
    return verdict
