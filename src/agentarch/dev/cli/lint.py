"""`agentarch lint`: check Terraform statically (the lint tools are imported only when it runs)."""

from __future__ import annotations

import argparse
import re
import shlex
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


LINT_MODULES = ("hcl2", "tfparse")  # python-hcl2 and tfparse: the `lint` extra
_LINT_FALLBACK = ("python-hcl2", "tfparse")


def install_hint() -> str:
    """The one command that installs what `agentarch lint` needs into this interpreter: the `lint`
    extra's requirements, read from the installed package's metadata (`make dev` installs them)."""
    from importlib import metadata

    try:
        requires = metadata.requires("agentarch") or []
    except metadata.PackageNotFoundError:
        requires = []
    wanted = [r.split(";", 1)[0].strip() for r in requires if re.search(r"extra\s*==\s*['\"]lint['\"]", r)]
    packages = " ".join(shlex.quote(r) for r in wanted or _LINT_FALLBACK)
    return f"{shlex.quote(sys.executable)} -m pip install {packages}"


def run(args: argparse.Namespace) -> int:
    try:
        from agentarch.dev.lint import report
    except ModuleNotFoundError as exc:  # an install without the `lint` extra (`make dev` has it)
        if exc.name not in LINT_MODULES:
            raise
        print(
            f"agentarch lint: needs {exc.name} (the `lint` extra), which this Python lacks; "
            f"install it with:\n    {install_hint()}",
            file=sys.stderr,
        )
        return 2

    return report(args)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m agentarch.dev.lint`: the same as `agentarch lint`."""
    parser = argparse.ArgumentParser(prog="agentarch lint", description=__doc__)
    configure_lint_parser(parser)
    return run(parser.parse_args(argv))
