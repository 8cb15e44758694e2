"""`agentarch build [FUNCTION ...] [--out DIR] [--policies DIR]`: the command line of the build."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from agentarch.dev.packaging.builder import (
    BuildError,
    UnknownFunction,
    build,
    default_cache_dir,
    default_output_dir,
    read_manifest,
    size_table,
)
from agentarch.dev.packaging.registry import (
    AGENT_POLICY_DIR,
    FUNCTIONS,
    LAMBDA_AWS_DATA_PATH,
    POWERTOOLS_LAYER_NAME,
)

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1

DESCRIPTION = """\
Build what Terraform deploys: one zip per Lambda (only the agentarch modules its handler imports;
Powertools and pydantic come from the public Powertools layer, boto3 from the
Lambda runtime), the agent zip for AgentCore Runtime direct code deploy (main.py plus every
dependency as CPython 3.13 linux aarch64 wheels), and manifest.json with each file's size and
sha256. The zips are reproducible: the same tree gives the same bytes."""


def _epilog() -> str:
    lines = ["functions:"]
    lines += [f"  {spec.name:<14} {spec.artifact:<18} {spec.description}" for spec in FUNCTIONS.values()]
    lines += [
        "",
        "Terraform must agree: the Lambdas run python3.13 on arm64 with the layer",
        f"{POWERTOOLS_LAYER_NAME}:<version> and AWS_DATA_PATH={LAMBDA_AWS_DATA_PATH};",
        'the runtime uses entry_point = ["main.py"] and runtime PYTHON_3_13. See lambda_build/README.md.',
        "",
        f"--policies DIR ships a Cedar policy folder (one *.cedarschema, *.cedar files) as {AGENT_POLICY_DIR}/",
        "in the agent zip, validated first (an invalid one fails the build); the agent uses it unless",
        "POLICY_DIR says otherwise. Without it the agent runs agentarch's default tool policy.",
        "",
        "The agent's wheels are downloaded once into the cache (needs PyPI), then reused offline.",
        "Set SOURCE_DATE_EPOCH to stamp zip entries with another fixed time than 1980-01-01.",
        "exit status: 0 built, 1 build failed (nothing written), 2 bad input such as an unknown function.",
    ]
    return "\n".join(lines)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`agentarch build [FUNCTION...]`."""
    configure_parser(sub.add_parser("build", help="build the zips Terraform deploys (lambda_build/dist)"))


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the build's arguments to a parser (the `agentarch build` subcommand or a standalone one)."""
    parser.description = DESCRIPTION
    parser.epilog = _epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "functions",
        nargs="*",
        metavar="FUNCTION",
        help=f"what to build: {', '.join(FUNCTIONS)} (default: all)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output directory (default: {_shown(default_output_dir())})"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help=f"wheel cache directory (default: {_shown(default_cache_dir())})",
    )
    parser.add_argument(
        "--policies",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"your own Cedar tool policy folder, validated and shipped in the agent zip as {AGENT_POLICY_DIR}/",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the functions and their artifacts, build nothing"
    )
    return parser


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run(args: argparse.Namespace) -> int:
    """Run a parsed build command; print progress, then the size table."""
    if args.list:
        for spec in FUNCTIONS.values():
            target = spec.handler if spec.kind == "lambda" else f"main.py → {spec.handler}()"
            print(f"{spec.name:<14} {spec.artifact:<18} {target}")
        return 0
    out_dir = (args.out or default_output_dir()).resolve()
    try:
        built = build(args.functions, out_dir, args.cache, policies=args.policies)
    except UnknownFunction as exc:
        print(f"agentarch build: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BuildError as exc:
        print(f"agentarch build: failed, nothing written: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not built:
        print("agentarch build: nothing to build", file=sys.stderr)
        return EXIT_FAILED
    print()
    for line in size_table(read_manifest(out_dir)):
        print(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `agentarch build …` (wired by agentarch.dev.cli) or `python -m agentarch.dev.packaging …`."""
    parser = configure_parser(argparse.ArgumentParser(prog="agentarch build"))
    return run(parser.parse_args(argv))
