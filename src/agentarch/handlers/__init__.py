"""The thin Powertools Lambdas: parse the event, call one service, shape the answer; one resolver each.

Imports `core`, `config`, `services` and `adapters`; nothing deployable imports a handler.
"""
