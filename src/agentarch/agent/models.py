"""Model selection: Bedrock through langchain-aws when configured, the offline model otherwise."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from agentarch.config import AgentSettings, Env, SettingsError


def select_model(settings: AgentSettings) -> BaseChatModel:
    """Return the chat model the settings ask for."""
    if settings.resolved_provider == "offline":
        from agentarch.agent.offline_model import OfflineChatModel  # not imported where Bedrock answers

        return OfflineChatModel(latency_seconds=settings.offline_model_latency_seconds)
    if not settings.bedrock_model_id:
        raise SettingsError(f"{Env.MODEL_PROVIDER}=bedrock needs {Env.BEDROCK_MODEL_ID}")
    import boto3
    from langchain_aws import ChatBedrockConverse  # imported only when Bedrock is used

    # One session for both clients: ChatBedrockConverse would make a botocore session per client,
    # reading the endpoint data twice in the cold start.
    session = boto3.Session(region_name=settings.bedrock_region or settings.aws_region)
    return ChatBedrockConverse(
        model_id=settings.bedrock_model_id,
        region_name=session.region_name,
        client=session.client("bedrock-runtime"),
        bedrock_client=session.client("bedrock"),
    )
