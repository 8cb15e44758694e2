#!/usr/bin/env python3
"""Regenerate the Inputs/Outputs tables of every README under terraform/ that has the markers.

Usage: .venv/bin/python scripts/terraform_docs.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from agentarch.dev.lint.docs import check_readme, update_readme  # noqa: E402
from agentarch.dev.lint.hcl import load_module, terraform_dirs  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report READMEs that are out of date")
    args = parser.parse_args(argv)
    stale = 0
    for path in terraform_dirs(ROOT):
        module = load_module(path)
        if args.check:
            for finding in check_readme(module, require_markers=False):
                print(finding.render(ROOT))
                stale += 1
        elif update_readme(module):
            print(f"updated {(path / 'README.md').relative_to(ROOT)}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
