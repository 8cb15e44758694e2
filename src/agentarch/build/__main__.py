"""`python -m agentarch.build`: the same as `agentarch build`."""

from __future__ import annotations

from agentarch.build.cli import main

raise SystemExit(main())
