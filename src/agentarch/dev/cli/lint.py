"""`agentarch lint`: check Terraform statically (the lint tools are imported only when it runs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

LINT_FORMATS = ("json", "sarif", "text")


def configure_lint_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of `agentarch lint` (defined here, so that the CLI starts without the lint tools)."""
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="Terraform roots or trees to check with the architecture rules; none: this repository's "
        "terraform/ with the schema, reference and README checks",
    )
    parser.add_argument("--format", choices=LINT_FORMATS, default="text", help="output format")
    parser.add_argument(
        "--fail-on",
        choices=("warning", "error"),
        default="error",
        help="exit 1 when a finding is at least this severe (notes never fail)",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (holds terraform/)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`agentarch lint [PATH...]`."""
    configure_lint_parser(
        sub.add_parser(
            "lint",
            help="check Terraform statically: architecture rules on any PATH (the bypass gap and its "
            "cousins); with no PATH, this repository's schema, references, variables and READMEs",
            description="With PATH: evaluate each Terraform root under it and report the architecture rules' "
            "findings (rule, severity, file:line, message, fix). Without PATH: check every .tf file under "
            "ROOT/terraform (parse, AWS provider schema, references, module calls, variables, version pins, "
            "README tables). Exit 0 clean, 1 findings at or above --fail-on, 2 unreadable input.",
        )
    )


def run(args: argparse.Namespace) -> int:
    try:
        from agentarch.dev.lint import report
    except ModuleNotFoundError as exc:  # `make dev` installs what running needs, not the lint tools
        if exc.name not in ("hcl2", "tfparse", "jsonschema"):
            raise
        print(
            "agentarch lint: needs the test tools; run `make test` once (or pip install -e '.[dev]')",
            file=sys.stderr,
        )
        return 2

    return report(args)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m agentarch.dev.lint`: the same as `agentarch lint`."""
    parser = argparse.ArgumentParser(prog="agentarch lint", description=__doc__)
    configure_lint_parser(parser)
    return run(parser.parse_args(argv))
