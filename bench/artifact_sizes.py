"""Artifact sizes against their targets: each Lambda zip under 1 MiB without the layer; the agent zip tracked.

    .venv/bin/python bench/artifact_sizes.py            # reads lambda_build/dist/manifest.json (builds if absent)
    .venv/bin/python bench/artifact_sizes.py --build    # builds first (agentarch build), then reports
    .venv/bin/python bench/artifact_sizes.py --out DIR  # another build directory

Exit status 1 when a Lambda zip misses its target, so CI can track it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentarch.build.builder import build, default_output_dir, read_manifest, size_table
from agentarch.build.registry import MANIFEST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=None, help="build directory (default: lambda_build/dist)")
    parser.add_argument("--build", action="store_true", help="build before reporting")
    args = parser.parse_args(argv)
    out = (args.out or default_output_dir()).resolve()
    if args.build or not (out / MANIFEST).is_file():
        build((), out, log=lambda line: print(line, file=sys.stderr))
    manifest = read_manifest(out)
    lines = size_table(manifest)
    print(f"artifact sizes ({out / MANIFEST})")
    for line in lines:
        print(line)
    return 1 if any(line.rstrip().endswith("FAIL") for line in lines[1:]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
