"""The AWS side of every storage port (DynamoDB, AgentCore Memory, KMS, the runtime client) and the one wiring point.

Only handlers and the agent import it; nothing here imports `agentarch.dev`: the local SQLite backend registers itself by name.
"""
