"""agentarch: a production-grade architecture around an AI agent on AWS."""

__version__ = "0.1.0"
