# The local stack's storage (SQLite): imported by name only, so no deployable carries it.
LOCAL_BACKEND = "agentarch.adapters.local_backend"
