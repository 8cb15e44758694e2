"""`agentarch eval`: scenario suites (`suite.py`) run through the real API k times each (`runner.py`)
and reported as pass^1…pass^k in text, JSON or JUnit XML (`report.py`).

Dev-only: imports anything (the local stack, the pytest plugin's stack starter); the checks
themselves live in the deployable `agentarch.services.evaluation`, which never imports this.
"""
