"""Run every benchmark of `bench/registry.py` and write `bench/results/latest.{json,md}`.

.venv/bin/python -m bench                  # all of them (`make bench`)
.venv/bin/python -m bench --only cold_start --only warm_overhead
.venv/bin/python -m bench --smoke --out /tmp/x   # tiny sizes, one sample (what the smoke test runs)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.registry import BENCHMARKS
from bench.report import Result

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent.parent / "README.md"
MARKERS = ("<!-- bench:start -->\n", "<!-- bench:end -->\n")


def update_readme(tables: str, readme: Path = README) -> None:
    """Put the tables between the README's bench markers (a full run only)."""
    text = readme.read_text()
    start, end = text.index(MARKERS[0]) + len(MARKERS[0]), text.index(MARKERS[1])
    readme.write_text(text[:start] + tables + text[end:])


def machine() -> dict[str, Any]:
    """CPU model, cores and Python version: what every figure was measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def markdown(results: list[Result], host: dict[str, Any], command: str, seconds: float) -> str:
    lines = [
        f"Made by `{command}` on {host['cpu']}, {host['cores']} cores, Python {host['python']} "
        f"({host['system']}), in {seconds:.0f} s. Times are medians with (min–max); every ratio is "
        "against a baseline measured in the same run.",
        "",
    ]
    for result in results:
        for table in result.tables:
            lines += [f"#### {table.title}", "", f"Compared against: {table.compares}", ""]
            lines.append("| " + " | ".join(table.columns) + " |")
            lines.append("|" + "---|" * len(table.columns))
            lines += ["| " + " | ".join(row) + " |" for row in table.rows]
            lines += [""] + [f"- {note}" for note in table.notes] + ([""] if table.notes else [])
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one sample each")
    parser.add_argument("--only", action="append", default=[], help="a benchmark's module name (repeatable)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.json and latest.md go")
    args = parser.parse_args(argv)
    names = [n for n in BENCHMARKS if not args.only or n.rpartition(".")[2] in args.only]
    if not names:
        parser.error(f"no benchmark named {args.only}; known: {[n.rpartition('.')[2] for n in BENCHMARKS]}")
    started = time.perf_counter()
    results: list[Result] = []
    for name in names:
        print(f"==> {name}", file=sys.stderr, flush=True)
        begun = time.perf_counter()
        result: Result = importlib.import_module(name).run(smoke=args.smoke)
        print(f"    done in {time.perf_counter() - begun:.0f} s", file=sys.stderr, flush=True)
        results.append(result)
    seconds = time.perf_counter() - started
    host = machine()
    command = (
        "make bench" if not (args.smoke or args.only) else "python -m bench " + " ".join(argv or sys.argv[1:])
    )
    args.out.mkdir(parents=True, exist_ok=True)
    document = {
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": host,
        "seconds": round(seconds, 1),
        "smoke": args.smoke,
        "benchmarks": [r.as_json() for r in results],
    }
    (args.out / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    tables = markdown(results, host, command, seconds)
    (args.out / "latest.md").write_text(tables)
    if command == "make bench" and args.out == RESULTS:
        update_readme(tables)
    print(tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
