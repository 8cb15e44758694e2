"""Dev-only offline models the local stack can put in the agent instead of the configured one.

`agentarch dev --offline-model NAME[:OPTIONS] --seed N` names one of `OFFLINE_MODELS`; the local
runtime endpoint's agent workers read the choice from `OFFLINE_MODEL_ENV` / `OFFLINE_SEED_ENV` and
hand the model to `agentarch.agent.app.build_agent`. Nothing deployed imports this package (the
build refuses it), so no zip carries these models. Add a model with one entry in `OFFLINE_MODELS`.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.language_models import BaseChatModel

OFFLINE_MODEL_ENV = "AGENTARCH_OFFLINE_MODEL"  # NAME[:OPTIONS], read by the local agent workers
OFFLINE_SEED_ENV = "AGENTARCH_OFFLINE_SEED"


class ModelSpecError(ValueError):
    """An `--offline-model` the registry cannot build, with a message a person can act on."""


def _offline(options: str, seed: int) -> BaseChatModel:
    from agentarch.agent.offline_model import OfflineChatModel

    if options:
        raise ModelSpecError("the offline model takes no options")
    return OfflineChatModel()


def _faulty(options: str, seed: int) -> BaseChatModel:
    from agentarch.dev.models.faulty import FaultyChatModel, parse_rates

    return FaultyChatModel(rates=parse_rates(options), seed=seed)


def _gullible(options: str, seed: int) -> BaseChatModel:
    from agentarch.dev.models.gullible import GullibleChatModel

    if options:
        raise ModelSpecError("the gullible model takes no options")
    return GullibleChatModel()


# name → builder(options, seed); the text after `NAME:` is the builder's to read.
OFFLINE_MODELS: dict[str, Callable[[str, int], BaseChatModel]] = {
    "offline": _offline,
    "faulty": _faulty,
    "gullible": _gullible,
}


def build_offline_model(spec: str, seed: int = 0) -> BaseChatModel:
    """The model `NAME[:OPTIONS]` names, or ModelSpecError saying what is wrong."""
    name, _, options = spec.partition(":")
    builder = OFFLINE_MODELS.get(name)
    if builder is None:
        raise ModelSpecError(f"no offline model {name!r} (have: {', '.join(sorted(OFFLINE_MODELS))})")
    return builder(options, seed)
