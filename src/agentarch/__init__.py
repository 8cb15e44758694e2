"""agentarch: a production-grade architecture around an AI agent on AWS.

What ships to AWS: `core`, `config`, `services`, `adapters`, `handlers`, `agent`. What only runs on a
laptop or in CI: `dev` (nothing deployable imports it, and no zip carries it).
"""

__version__ = "0.1.0"
