#!/usr/bin/env python3
"""Precision of `agentarch lint` on public Terraform trees, from our labels (issue 21).

Fetches nothing: give it checkouts you made yourself, one per tree of the labels file, at the
commit it names (e.g. `git clone https://github.com/<repo> /tmp/trees/fast && git -C /tmp/trees/fast
checkout <commit>`):

    PYTHONPATH=src python scripts/lint_precision.py fast=/tmp/trees/fast aws-ia=/tmp/trees/aws-ia ...

It lints `<checkout>/<path>` of each tree, matches every finding to a label by rule + file (relative
to the checkout) + line, and prints one markdown row per tree: findings by rule, true, false,
unlabelled, precision (true / labelled), and the `unresolved` notes apart (they claim nothing).
Findings nobody labelled are listed below the table, to be judged and added to the labels file.
Exit 1 when a finding is unlabelled or a labelled finding is no longer reported.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentarch.dev.lint import lint_paths
from agentarch.dev.lint.findings import Finding

LABELS = Path(__file__).with_name("lint_precision_labels.toml")

Key = tuple[str, str, int]  # rule, file relative to the checkout, line


@dataclass
class Row:
    """What lint said on one tree, judged against the labels."""

    name: str
    commit: str
    by_rule: Counter[str] = field(default_factory=Counter)
    true: int = 0
    false: int = 0
    notes: int = 0
    unlabelled: list[str] = field(default_factory=list)
    stale: list[Key] = field(default_factory=list)

    @property
    def precision(self) -> str:
        judged = self.true + self.false
        return f"{self.true / judged:.0%}" if judged else "n/a (no findings)"


def _commit_of(checkout: Path) -> str | None:
    """The checkout's HEAD when it is a git work tree (an archive extract has none)."""
    if not (checkout / ".git").exists():
        return None
    done = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def judge(name: str, tree: dict[str, object], checkout: Path) -> Row:
    """Lint one checkout and count its findings against the tree's labels."""
    labels: dict[Key, str] = {
        (str(label["rule"]), str(label["file"]), int(label["line"])): str(label["verdict"])
        for label in tree.get("labels", [])  # type: ignore[union-attr]
    }
    row = Row(name=name, commit=str(tree["commit"])[:12])
    seen: set[Key] = set()
    found: list[Finding] = lint_paths([checkout / str(tree.get("path", "."))])
    for finding in found:
        if finding.rule == "unresolved":
            row.notes += 1
            continue
        key = (finding.rule, os.path.relpath(finding.file, checkout.resolve()), finding.line)
        seen.add(key)
        row.by_rule[finding.rule] += 1
        verdict = labels.get(key)
        if verdict == "true":
            row.true += 1
        elif verdict == "false":
            row.false += 1
        else:
            row.unlabelled.append(f"{key[0]} {key[1]}:{key[2]} ({finding.root}) {finding.message}")
    row.stale = sorted(set(labels) - seen)
    return row


def table(rows: Sequence[Row]) -> str:
    """The README's table: one row per tree, then the total."""
    lines = [
        "| Tree (commit) | Findings by rule | True | False | Precision | Notes |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        rules = ", ".join(f"`{rule}` {n}" for rule, n in sorted(row.by_rule.items())) or "none"
        unlabelled = f" (+{len(row.unlabelled)} unlabelled)" if row.unlabelled else ""
        lines.append(
            f"| {row.name} (`{row.commit}`) | {rules}{unlabelled} | {row.true} | {row.false} | "
            f"{row.precision} | {row.notes} |"
        )
    true, false = sum(r.true for r in rows), sum(r.false for r in rows)
    total = f"{true / (true + false):.0%}" if true + false else "n/a"
    lines.append(
        f"| **all** | {sum(sum(r.by_rule.values()) for r in rows)} | {true} | {false} | {total} | "
        f"{sum(r.notes for r in rows)} |"
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "trees", nargs="+", metavar="NAME=CHECKOUT", help="a tree of the labels file and its checkout"
    )
    parser.add_argument("--labels", type=Path, default=LABELS, help="the labels file (TOML)")
    args = parser.parse_args(argv)
    known = tomllib.loads(args.labels.read_text(encoding="utf-8"))["trees"]
    rows: list[Row] = []
    for spec in args.trees:
        name, _, where = spec.partition("=")
        if name not in known or not where:
            parser.error(f"{spec!r}: give NAME=CHECKOUT with NAME one of {', '.join(sorted(known))}")
        checkout = Path(where)
        head = _commit_of(checkout)
        if head is not None and head != known[name]["commit"]:
            print(
                f"warning: {name} is at {head}, the labels are for {known[name]['commit']}", file=sys.stderr
            )
        rows.append(judge(name, known[name], checkout))
    sys.stdout.write(table(rows))
    problems = [(r.name, f"unlabelled: {u}") for r in rows for u in r.unlabelled]
    problems += [(r.name, f"labelled but not reported: {k[0]} {k[1]}:{k[2]}") for r in rows for k in r.stale]
    for name, problem in problems:
        print(f"{name}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
