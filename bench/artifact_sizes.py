"""Artifact sizes against their targets: each Lambda zip under 1 MiB without the layer; the agent zip tracked.

    .venv/bin/python bench/artifact_sizes.py            # reads lambda_build/dist/manifest.json (builds if absent)
    .venv/bin/python bench/artifact_sizes.py --build    # builds first (agentarch build), then reports
    .venv/bin/python bench/artifact_sizes.py --out DIR  # another build directory

Exit status 1 when a Lambda zip misses its target, so CI can track it. `make bench` runs `run()`,
which builds the Lambda zips into a temporary directory when no build exists.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from agentarch.dev.packaging.builder import (
    LAMBDA_SIZE_TARGET,
    build,
    default_output_dir,
    human_size,
    read_manifest,
    size_table,
)
from agentarch.dev.packaging.registry import MANIFEST
from bench.report import Result, Table


def run(smoke: bool) -> Result:
    out = default_output_dir().resolve()
    source = f"`{out / MANIFEST}` (the last `make build`)"
    with tempfile.TemporaryDirectory() as tmp:
        if not (out / MANIFEST).is_file():
            out, source = Path(tmp), "a fresh build"
            build(
                ("chat", "conversations") if smoke else (), out, log=lambda line: print(line, file=sys.stderr)
            )
        manifest = read_manifest(out)
    rows, data = [], {}
    for name, entry in sorted(manifest["artifacts"].items()):
        size = int(entry["size"])
        target = int(entry.get("size_target", LAMBDA_SIZE_TARGET)) if entry["kind"] == "lambda" else None
        verdict = "-" if target is None else ("PASS" if size < target else "FAIL")
        rows.append([name, human_size(size), f"{size / target:.0%}" if target else "(tracked)", verdict])
        data[name] = {"bytes": size, "target_bytes": target}
    table = Table(
        title="Deployable artifact sizes",
        compares="each Lambda zip's target, 1 MiB without the Powertools layer (boto3 comes from the runtime)",
        columns=["artifact", "size", "of target", "verdict"],
        rows=rows,
        notes=[f"from {source}"],
    )
    return Result("artifact_sizes", [table], data)


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
