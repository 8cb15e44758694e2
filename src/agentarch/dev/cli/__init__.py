"""`agentarch` — run the architecture locally, and the tools around it (one module per subcommand).

Dev-only: imports anything; nothing imports it but its own `__main__` and the tests.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from agentarch.dev.cli import audit, build, dev, eval, lint, openapi, policy, web_config

# `agentarch NAME` runs COMMANDS[NAME].run(args); each module adds its own parser.
COMMANDS: dict[str, ModuleType] = {
    "dev": dev,
    "openapi": openapi,
    "web-config": web_config,
    "audit": audit,
    "policy": policy,
    "build": build,
    "lint": lint,
    "eval": eval,
}


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(prog="agentarch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `agentarch` command."""
    args = build_parser().parse_args(argv)
    try:
        status: int = COMMANDS[args.command].run(args)
        return status
    except KeyboardInterrupt:
        # Ctrl-C is how a person stops `agentarch dev` (or gives up on a build): not a crash.
        print(file=sys.stderr)
        return 130
