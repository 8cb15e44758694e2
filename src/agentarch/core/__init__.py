"""The vocabulary every other package shares: each type that crosses a boundary, defined once here.

Anything may import `core`; `core` imports nothing of agentarch's but itself (pydantic and the standard library only).
"""
