"""The LLM judge on Bedrock: one Converse call per graded conversation (`services.evaluation.Judge`)."""

from __future__ import annotations

from typing import Any

from agentarch.adapters.aws_clients import LazyClient

JUDGE_MAX_TOKENS = 200


class BedrockJudge:
    """Asks a Bedrock model for a PASS/FAIL verdict, at temperature 0."""

    def __init__(self, model_id: str, region: str | None = None, client: Any | None = None) -> None:
        self._model_id = model_id
        self._client = LazyClient("bedrock-runtime", region, client)

    def grade(self, instructions: str, prompt: str) -> str:
        """The model's answer text."""
        answer = self._client.get().converse(
            modelId=self._model_id,
            system=[{"text": instructions}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": JUDGE_MAX_TOKENS, "temperature": 0},
        )
        parts = answer.get("output", {}).get("message", {}).get("content", [])
        return "".join(part.get("text", "") for part in parts)


def credentials_present() -> bool:
    """Whether boto3 finds AWS credentials here (offline there are none: the judge is skipped)."""
    import boto3

    return boto3.Session().get_credentials() is not None
