"""The session id: one id names the AgentCore Runtime session and the AgentCore Memory session.

Each limit is the service's own; the project's rule is where they meet.
"""

from __future__ import annotations

import re
import secrets

from agentarch.core.errors import InvalidIdentifier

# AgentCore Runtime, InvokeAgentRuntime `runtimeSessionId` (sent as this header): 33 to 256 characters.
RUNTIME_SESSION_ID_MIN_CHARS = 33
RUNTIME_SESSION_ID_MAX_CHARS = 256
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
# AgentCore Memory, CreateEvent/ListEvents `sessionId`: 1 to 100 characters of [a-zA-Z0-9][a-zA-Z0-9-_]*.
MEMORY_SESSION_ID_MAX_CHARS = 100
# The project's rule, both at once: 33 to 100 characters of Memory's alphabet.
SESSION_ID_PATTERN = re.compile(
    rf"^[a-zA-Z0-9][a-zA-Z0-9_-]{{{RUNTIME_SESSION_ID_MIN_CHARS - 1},{MEMORY_SESSION_ID_MAX_CHARS - 1}}}$"
)


def new_session_id() -> str:
    """An unguessable session id that satisfies both services (49 characters)."""
    return "s" + secrets.token_hex(24)


def check_session_id(session_id: str) -> str:
    """The session id, or `InvalidIdentifier` when it cannot name both a runtime and a Memory session."""
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
        raise InvalidIdentifier(
            f"session id must be {RUNTIME_SESSION_ID_MIN_CHARS}-{MEMORY_SESSION_ID_MAX_CHARS} characters "
            "of letters, digits, '-' and '_'"
        )
    return session_id


def is_runtime_session_id(session_id: str | None) -> bool:
    """Whether AgentCore Runtime would accept this as a `runtimeSessionId` (the agent's own check)."""
    return session_id is not None and (
        RUNTIME_SESSION_ID_MIN_CHARS <= len(session_id) <= RUNTIME_SESSION_ID_MAX_CHARS
    )
