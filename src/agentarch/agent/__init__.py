"""The agent inside AgentCore Runtime: the LangGraph graph, its tools, the Cedar tool policy, the models.

Imports `core`, `config`, `services` (ports) and `adapters` (the wiring); only `dev` imports it from outside the runtime.
"""
