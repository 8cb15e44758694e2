"""`python -m agentarch.dev.cli`: the same as `agentarch`."""

from __future__ import annotations

from agentarch.dev.cli import main

raise SystemExit(main())
