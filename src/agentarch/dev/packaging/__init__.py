"""`agentarch build`: the deployable artifacts Terraform consumes, reproducible and small.

One zip per Lambda, the agent zip for AgentCore Runtime direct code deploy, and a manifest.
The recipe and its decisions are in lambda_build/README.md.
"""

from __future__ import annotations

from agentarch.dev.packaging.builder import (
    BuildError,
    BuiltArtifact,
    UnknownFunction,
    build,
    read_manifest,
    size_table,
)
from agentarch.dev.packaging.registry import FUNCTIONS, FunctionSpec

__all__ = [
    "FUNCTIONS",
    "BuildError",
    "BuiltArtifact",
    "FunctionSpec",
    "UnknownFunction",
    "build",
    "read_manifest",
    "size_table",
]
