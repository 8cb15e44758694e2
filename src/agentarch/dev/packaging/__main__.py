"""`python -m agentarch.dev.packaging`: the same as `agentarch build`."""

from __future__ import annotations

from agentarch.dev.cli.build import main

raise SystemExit(main())
