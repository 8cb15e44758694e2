"""Model selection: Bedrock through langchain-aws when configured, the offline model otherwise."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from agentarch.agent.offline_model import OfflineChatModel
from agentarch.config import AgentSettings, Env, SettingsError


def select_model(settings: AgentSettings) -> BaseChatModel:
    """Return the chat model the settings ask for."""
    if settings.resolved_provider == "offline":
        return OfflineChatModel(latency_seconds=settings.offline_model_latency_seconds)
    if not settings.bedrock_model_id:
        raise SettingsError(f"{Env.MODEL_PROVIDER}=bedrock needs {Env.BEDROCK_MODEL_ID}")
    from langchain_aws import ChatBedrockConverse  # imported only when Bedrock is used

    return ChatBedrockConverse(
        model_id=settings.bedrock_model_id,
        region_name=settings.bedrock_region or settings.aws_region,
    )
