"""The use cases (chat turns, conversations, quotas, the audit trail, tickets) and the ports they need.

Imports only `core` (and `services` itself); handlers, the agent and adapters import it.
"""
